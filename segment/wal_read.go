package segment

import (
	"errors"
	"fmt"
	"sort"

	"github.com/tidwall/wal"
)

// ReadFrom returns the records from offset off on: as many whole records as
// fit in maxBytes of EncodedSize, but always at least one, and it stops
// before an entry after the first that does not fit whole. So a replay
// with a budget of an entry or more reads each entry whole: one copy, no
// shared decode, no per-record clone. off must be in [first, next) (see
// Bounds); otherwise the error wraps ErrOutOfRange.
//
// Every entry read is checksummed and must hold the offsets the segment
// table predicts; anything else is a *CorruptError naming the segment file.
// The records returned belong to the caller and share no memory with any
// other caller's. A read that takes a whole entry copies it once out of
// tidwall's buffers and its records alias that copy; a read that takes part
// of an entry clones its records out of the entry decoded once for every
// such reader (see sharedEntry), so that readers at different places in an
// entry, or many readers tailing the same partition, do not each copy and
// decode all of it. A reader that continues where the
// last ReadFrom ended finds the next entry in O(1); any other offset costs a
// binary search over segments and then over the entries of one segment
// (header checks only).
func (w *WAL) ReadFrom(off int64, maxBytes int) ([]Record, error) {
	return w.ReadAppend(nil, off, maxBytes)
}

// ReadAppend is ReadFrom appending to dst: it returns dst with the records
// appended, and may decode into dst's spare capacity. A replay that passes
// the same slice, emptied, to every call saves a []Record allocation per
// entry. The records appended are the caller's as with ReadFrom; what was
// in dst's spare capacity is overwritten.
func (w *WAL) ReadAppend(dst []Record, off int64, maxBytes int) ([]Record, error) {
	w.use(true)
	defer w.unuse()
	base := len(dst)
	budget := maxBytes
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return dst, ErrClosed
	}
	if first, next := w.first.Load(), w.next.Load(); off < first || off >= next {
		w.mu.Unlock()
		return dst, outOfRange(off, first, next)
	}
	loc, err := w.locateLocked(off)
	w.mu.Unlock()
	if err != nil {
		return dst, err
	}
	for {
		got := len(dst) > base
		recs, shared, ref, err := w.entryRecords(loc, off, budget, !got, false, dst[len(dst):])
		switch {
		case errors.Is(err, errNoEntry) && got, // the end, or dropped meanwhile
			errors.Is(err, errNoRoom): // only returned once dst holds records
			return dst, nil
		case errors.Is(err, errNoEntry):
			first, next := w.Bounds()
			return dst, outOfRange(off, first, next)
		case err != nil:
			return dst, err
		}
		first := recs[0].Offset
		end := first + int64(len(recs))
		w.mu.Lock()
		w.hintLocked(ref.index, first, end)
		w.mu.Unlock()

		from := int(off - first)
		n := from
		for n < len(recs) {
			size := EncodedSize(recs[n])
			if (got || n > from) && size > budget {
				break
			}
			budget -= size
			n++
		}
		switch {
		case shared:
			dst = appendClones(dst, recs[from:n])
		case cap(dst) == 0:
			dst = recs[from:n:n] // often the only entry: no copy
		case from == 0 && cap(dst) > len(dst) && &dst[:len(dst)+1][len(dst)] == &recs[0]:
			dst = dst[:len(dst)+n] // decoded in place
		default:
			dst = append(dst, recs[from:n]...)
		}
		if n < len(recs) || budget <= 0 {
			return dst, nil
		}
		off = end
		loc = entryLoc{index: ref.index + 1, exact: end, holds: -1}
	}
}

// entryLoc is where an entry is expected and what it must hold.
type entryLoc struct {
	index uint64
	exact int64 // the offset it must start at, or -1 if unknown
	holds int64 // an offset it must hold, or -1
}

// want is the offset an error about this entry names.
func (l entryLoc) want() int64 {
	if l.holds >= 0 {
		return l.holds
	}
	return l.exact
}

// entryRef places a wal index in the segment table.
type entryRef struct {
	index    uint64
	file     string
	segStart bool  // the first entry of its segment
	lo, hi   int64 // its segment holds offsets [lo, hi)
}

// entryRefLocked returns the segment-table row of wal index i, or false if
// i is not in the log (dropped, or past the newest entry).
func (w *WAL) entryRefLocked(i uint64) (entryRef, bool) {
	if len(w.segs) == 0 || i < w.segs[0].index || i > w.lastIndex {
		return entryRef{}, false
	}
	k := sort.Search(len(w.segs), func(k int) bool { return w.segs[k].index > i }) - 1
	hi := w.next.Load()
	if k+1 < len(w.segs) {
		hi = w.segs[k+1].offset
	}
	s := w.segs[k]
	return entryRef{index: i, file: w.segPath(s.index), segStart: i == s.index, lo: s.offset, hi: hi}, true
}

// check verifies that an entry with header h belongs where the segment
// table put it: inside its segment, at the segment's first offset if it is
// the first entry, and as loc predicts. A checksummed entry in the wrong
// place (a stray or misplaced file) is corruption, never returned as data.
func (r entryRef) check(h BatchHeader, loc entryLoc) error {
	end := h.FirstOffset + int64(h.Count)
	var why string
	switch {
	case h.FirstOffset < r.lo || end > r.hi:
		why = fmt.Sprintf("outside its segment's offsets [%d, %d)", r.lo, r.hi)
	case r.segStart && h.FirstOffset != r.lo:
		why = fmt.Sprintf("but its segment starts at offset %d", r.lo)
	case loc.exact >= 0 && h.FirstOffset != loc.exact:
		why = fmt.Sprintf("but should start at offset %d", loc.exact)
	case loc.holds >= 0 && (loc.holds < h.FirstOffset || loc.holds >= end):
		why = fmt.Sprintf("but should hold offset %d", loc.holds)
	default:
		return nil
	}
	return r.corrupt(loc.want(), fmt.Errorf("wal entry %d holds offsets [%d, %d), %s: misplaced entry: %w",
		r.index, h.FirstOffset, end, why, ErrCorrupt))
}

// corrupt wraps err as a *CorruptError naming r's file.
func (r entryRef) corrupt(off int64, err error) error {
	return &CorruptError{File: r.file, Pos: -1, Offset: off, Err: fmt.Errorf("wal entry %d: %w", r.index, err)}
}

// readLocked returns the entry at r.index: a copy if copyOut, else a slice
// of tidwall's buffer that is valid only while mu is held.
//
// tidwall/wal indexes its position table without a bounds check: a segment
// file holding fewer entries than the next file's name implies (one cut
// short or lost) makes Read panic. That is file content, so it becomes a
// *CorruptError here; tidwall's state is intact afterwards (the panic
// happens after its lock is released by defer and the cache is consistent).
//
// A WAL released by its Budget is reopened first.
func (w *WAL) readLocked(r entryRef, copyOut bool) (data []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			data, err = nil, r.corrupt(-1, fmt.Errorf(
				"tidwall/wal failed to read it (%v): the file holds fewer entries than the next file's name implies (cut short, or a file after it is missing): %w", v, ErrCorrupt))
		}
	}()
	if err := w.ensureOpenLocked(); err != nil {
		return nil, err
	}
	data, err = w.log.Read(r.index)
	if err == nil {
		w.noteReadLocked(r.index)
	}
	switch {
	case errors.Is(err, wal.ErrCorrupt):
		return nil, r.corrupt(-1, fmt.Errorf("tidwall/wal cannot frame the file's entries: %w", ErrCorrupt))
	case err != nil:
		return nil, fmt.Errorf("segment: read wal entry %d in %s: %w", r.index, r.file, err)
	case copyOut:
		return append([]byte(nil), data...), nil
	}
	return data, nil
}

// headerLocked reads and checks the header of the entry at r, against its
// segment only, and returns it with the entry's framed size on disk.
func (w *WAL) headerLocked(r entryRef) (BatchHeader, int64, error) {
	data, err := w.readLocked(r, false)
	if err != nil {
		return BatchHeader{}, 0, err
	}
	h, err := DecodeHeader(data)
	if err != nil {
		return BatchHeader{}, 0, r.corrupt(-1, err)
	}
	if err := r.check(h, entryLoc{exact: -1, holds: -1}); err != nil {
		return BatchHeader{}, 0, err
	}
	return h, int64(uvarintLen(uint64(len(data))) + len(data)), nil
}

// locateLocked finds the entry holding off, which is in [first, next):
// from a hint if a recent read ended or is inside it, else by binary search
// over the segment table and then over the segment's entries.
func (w *WAL) locateLocked(off int64) (entryLoc, error) {
	for _, h := range w.hints {
		switch {
		case h.end == 0:
		case h.first <= off && off < h.end:
			return entryLoc{index: h.index, exact: h.first, holds: off}, nil
		case off == h.end && h.index < w.lastIndex:
			return entryLoc{index: h.index + 1, exact: off, holds: off}, nil
		}
	}
	k := sort.Search(len(w.segs), func(k int) bool { return w.segs[k].offset > off }) - 1
	lo, hi := w.segs[k].index, w.lastIndex
	if k+1 < len(w.segs) {
		hi = w.segs[k+1].index - 1
	}
	// The last entry in [lo, hi] starting at or below off holds it.
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		r, _ := w.entryRefLocked(mid)
		h, _, err := w.headerLocked(r)
		if err != nil {
			return entryLoc{}, err
		}
		if h.FirstOffset <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return entryLoc{index: lo, exact: -1, holds: off}, nil
}

// hintLocked remembers that wal index i holds offsets [first, end).
func (w *WAL) hintLocked(i uint64, first, end int64) {
	for _, h := range w.hints {
		if h.index == i && h.end != 0 {
			return
		}
	}
	w.hints[w.hintNext] = entryHint{index: i, first: first, end: end}
	w.hintNext = (w.hintNext + 1) % len(w.hints)
}

// clearHintsLocked forgets every hint and shared entry, after DropBefore.
func (w *WAL) clearHintsLocked() {
	w.hints = [len(w.hints)]entryHint{}
	w.clearSharedLocked()
}
