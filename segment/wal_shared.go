package segment

import (
	"errors"
	"slices"
	"unsafe"
)

// sharedEntries is how many decoded entries a WAL keeps for its readers
// (see sharedEntry). Readers tailing a partition are usually within an
// entry or two of each other; a few more slots let slower ones keep up
// without reading and decoding the same entry again.
const sharedEntries = 4

// sharedEntry is one wal entry decoded once and shared by every reader of
// the WAL, so that N readers of the same entry (N consumer groups tailing a
// partition) copy it out of tidwall, checksum it and decode it once, not N
// times. Its records alias one private copy of the entry and are never
// modified and never handed out: ReadFrom clones the ones a reader takes
// (cloneRecords), so every reader still owns what it gets.
//
// An entry is shared only when a reader takes part of it (a partial read
// is the sign that more reads of it follow: by the same reader, or by
// others at other positions); a reader that takes a whole entry decodes its
// own copy and keeps it, which costs the same and needs no clone.
//
// h, recs, bytes and err are written once, before ready is closed, and
// only read after it is closed (or under w.mu).
type sharedEntry struct {
	index   uint64
	ready   chan struct{} // closed once recs (or err) is set
	loading bool          // until ready is closed; guarded by w.mu
	h       BatchHeader
	recs    []Record
	bytes   int64 // memory held, for the Budget
	err     error // the load failed: each reader reads the entry itself
}

// sharedLocked returns the shared entry of wal index i, loaded or being
// loaded, or nil. w.mu is held.
func (w *WAL) sharedLocked(i uint64) *sharedEntry {
	for _, e := range w.shared {
		if e != nil && e.index == i {
			return e
		}
	}
	return nil
}

// addSharedLocked makes e a shared entry, in place of the oldest one that
// is not being loaded (a slot being loaded has a loader that will publish
// into it; it is never taken over). If every slot is being loaded, e is not
// added and addSharedLocked reports false. w.mu is held.
func (w *WAL) addSharedLocked(e *sharedEntry) bool {
	for range len(w.shared) {
		k := w.sharedAt
		w.sharedAt = (w.sharedAt + 1) % len(w.shared)
		if old := w.shared[k]; old != nil && old.loading {
			continue // being loaded
		}
		w.shared[k] = e
		return true
	}
	return false
}

// removeSharedLocked forgets e if it is still a shared entry. w.mu is held.
func (w *WAL) removeSharedLocked(e *sharedEntry) {
	for k, x := range w.shared {
		if x == e {
			w.shared[k] = nil
		}
	}
}

// clearSharedLocked forgets every shared entry: after DropBefore, at a
// release by the Budget and at Close. Readers holding one keep it; loaders
// still publish into their own entry, which is then simply unreferenced.
// w.mu is held.
func (w *WAL) clearSharedLocked() {
	w.shared = [len(w.shared)]*sharedEntry{}
}

// sharedBytesLocked is the memory the shared entries hold. w.mu is held.
func (w *WAL) sharedBytesLocked() int64 {
	var n int64
	for _, e := range w.shared {
		if e != nil {
			n += e.bytes
		}
	}
	return n
}

// recordSize is the memory one decoded Record takes in a []Record.
const recordSize = int64(unsafe.Sizeof(Record{}))

// entryFits reports whether a read starting at off, with budget bytes of
// EncodedSize left, will take every record of the entry data: whether off
// is its first offset and its records fit the budget. It reads only the
// fixed header, unchecked; it guides where the entry is decoded, never what
// is returned, so a wrong answer costs time only. first says the read has
// returned nothing yet (so it takes at least one record).
func entryFits(data []byte, off int64, budget int, first bool) bool {
	if len(data) < BatchOverhead {
		return true // corrupt: the reader decodes it and reports it
	}
	f := readHeader(data)
	switch {
	case f.problem != headerOK:
		return true
	case f.first != off:
		return false
	case f.count == 1:
		// Taken whole or not at all: sharing it would only pin it (a
		// single record can be far larger than maxEntryBytes).
		return true
	case first && budget >= maxEntryBytes:
		return true // Append puts at most maxEntryBytes of records in an entry (or one record)
	}
	// EncodedSize counts each record's time at maxVarintLen bytes; the
	// entry stores it in at least one.
	most := uint64(len(data)-BatchOverhead) + f.count*(maxVarintLen-1)
	return budget >= 0 && most <= uint64(budget)
}

// takesNone reports whether a read that has already returned records, at
// off with budget bytes of EncodedSize left, stops before the entry data.
// After its first entry a read takes an entry only if all of it fits, so
// that a reader going through a partition (a replay) starts every read at
// an entry boundary and takes each entry whole: its own copy, with no
// decode shared with other readers and no per-record clone. Like entryFits
// it reads the header unchecked and only guides the read: if it is wrong,
// the reader's next ReadFrom starts at off and reads and checks the entry.
func takesNone(data []byte, off int64, budget int) bool {
	if len(data) < BatchOverhead {
		return false
	}
	f := readHeader(data)
	if f.problem != headerOK || f.first != off {
		return false
	}
	// EncodedSize counts each record's time at maxVarintLen bytes; the
	// entry stores it in at least one.
	most := uint64(len(data)-BatchOverhead) + f.count*(maxVarintLen-1)
	return budget < 0 || most > uint64(budget)
}

// errNoRoom is entryRecords' report that a read that has returned records
// already stops before the entry (takesNone).
var errNoRoom = errors.New("segment: next entry does not fit")

// errNoEntry is entryRecords' report that the wal index is not in the log:
// past the newest entry, or dropped meanwhile.
var errNoEntry = errors.New("segment: no such wal entry")

// entryRecords returns the decoded records of the entry at loc, for a read
// at off with budget bytes left (first: nothing read yet), and the entry's
// place in the segment table. If shared is false the records alias the
// caller's own copy of the entry and may be returned as they are; if true
// they are the WAL's shared entry and must be cloned (see sharedEntry).
// private forces a read of the caller's own copy. A private decode uses
// into's memory if it has room for the entry.
//
// The entry is copied out of tidwall under w.mu, and checksummed and
// decoded outside it. Readers that want an entry being loaded for sharing
// wait for it instead of reading it too.
func (w *WAL) entryRecords(loc entryLoc, off int64, budget int, first, private bool, into []Record) (recs []Record, shared bool, ref entryRef, err error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, false, ref, ErrClosed
	}
	ref, ok := w.entryRefLocked(loc.index)
	if !ok {
		w.mu.Unlock()
		return nil, false, ref, errNoEntry
	}
	if e := w.sharedLocked(ref.index); e != nil && !private {
		w.mu.Unlock()
		<-e.ready
		if e.err != nil {
			// The load failed: read the entry again, for this reader's
			// own error (or records, if its loader's check was the problem).
			return w.entryRecords(loc, off, budget, first, true, into)
		}
		if err := ref.check(e.h, loc); err != nil {
			return nil, false, ref, err
		}
		return e.recs, true, ref, nil
	}
	data, err := w.readLocked(ref, false)
	if err != nil {
		w.mu.Unlock()
		return nil, false, ref, err
	}
	if !first && takesNone(data, off, budget) {
		// Do not copy and decode a large record only to drop it: the
		// reader's next ReadFrom starts with it.
		w.mu.Unlock()
		return nil, false, ref, errNoRoom
	}
	var e *sharedEntry
	if !private && !entryFits(data, off, budget, first) {
		e = &sharedEntry{index: ref.index, ready: make(chan struct{}), loading: true}
		if !w.addSharedLocked(e) {
			e = nil
		}
	}
	data = append([]byte(nil), data...)
	w.mu.Unlock()

	var h BatchHeader
	if e != nil {
		into = nil // the shared entry's records are not the caller's memory
	}
	recs, err = decodeBatchInto(into, data)
	if err != nil {
		err = ref.corrupt(loc.want(), err)
	} else {
		h = BatchHeader{FirstOffset: recs[0].Offset, Count: len(recs)}
		err = ref.check(h, loc)
	}
	if e == nil {
		if err != nil {
			return nil, false, ref, err
		}
		return recs, false, ref, nil
	}

	w.mu.Lock()
	e.loading = false
	if err != nil {
		e.err = err
		w.removeSharedLocked(e)
	} else {
		e.h, e.recs = h, recs
		e.bytes = int64(cap(data)) + int64(cap(recs))*recordSize
		for i := range recs {
			e.bytes += int64(len(recs[i].Headers)) * headerSize
		}
		w.accountLocked()
	}
	close(e.ready)
	w.mu.Unlock()
	if err != nil {
		return nil, false, ref, err
	}
	return recs, true, ref, nil
}

// headerSize is the memory one decoded Header takes.
const headerSize = int64(unsafe.Sizeof(Header{}))

// appendClones appends copies of recs to dst, sharing nothing with recs but
// the header keys (immutable strings): one allocation for every key, value
// and header value, one for the headers, and dst's growth. Nil and empty
// keys and values stay apart; a record without headers gets nil Headers.
func appendClones(dst, recs []Record) []Record {
	nbytes, nhdrs := 0, 0
	for i := range recs {
		nbytes += len(recs[i].Key) + len(recs[i].Value)
		nhdrs += len(recs[i].Headers)
		for _, h := range recs[i].Headers {
			nbytes += len(h.Value)
		}
	}
	arena := make([]byte, 0, nbytes)
	cp := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		start := len(arena)
		arena = append(arena, b...)
		return arena[start:len(arena):len(arena)]
	}
	var hdrs []Header
	if nhdrs > 0 {
		hdrs = make([]Header, 0, nhdrs)
	}
	dst = slices.Grow(dst, len(recs))
	for i := range recs {
		r := &recs[i]
		c := Record{Offset: r.Offset, Time: r.Time, Key: cp(r.Key), Value: cp(r.Value)}
		if len(r.Headers) > 0 {
			start := len(hdrs)
			for _, h := range r.Headers {
				hdrs = append(hdrs, Header{Key: h.Key, Value: cp(h.Value)})
			}
			c.Headers = hdrs[start:len(hdrs):len(hdrs)]
		}
		dst = append(dst, c)
	}
	return dst
}
