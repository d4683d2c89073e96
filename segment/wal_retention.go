package segment

import (
	"fmt"
	"slices"
	"sort"
)

// Segments describes every segment file holding records, oldest first; the
// last one holds the newest record. A segment file tidwall has started but
// not yet written to (it creates the next file as soon as one fills) is not
// listed. An empty store has none. Bytes is the file's size.
//
// The first call after OpenWAL reads and verifies every sealed segment file
// once (see OffsetForTime). Later calls need no data: they do not reopen a
// WAL its Budget released.
func (w *WAL) Segments() ([]Info, error) {
	w.use(false)
	defer w.unuse()
	if err := w.ensureIndex(); err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, ErrClosed
	}
	next := w.next.Load()
	infos := make([]Info, 0, len(w.segs))
	for k, s := range w.segs {
		info := Info{FirstOffset: s.offset, NextOffset: next, Bytes: w.tailBytes, MaxTime: s.maxTime}
		if k+1 < len(w.segs) {
			info.NextOffset, info.Bytes = w.segs[k+1].offset, s.bytes
		}
		if info.NextOffset > info.FirstOffset {
			infos = append(infos, info)
		}
	}
	return infos, nil
}

// DiskUsage returns how many segment files hold records and their total
// size in bytes: the length of what Segments returns and the sum of its
// Bytes. Unlike Segments it reads no data: it never builds the time index
// and never reopens a WAL its Budget released, so it suits metrics taken
// often. After Close it returns ErrClosed.
func (w *WAL) DiskUsage() (segments int, bytes int64, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, 0, ErrClosed
	}
	next := w.next.Load()
	for k, s := range w.segs {
		end, size := next, w.tailBytes
		if k+1 < len(w.segs) {
			end, size = w.segs[k+1].offset, s.bytes
		}
		if end > s.offset {
			segments++
			bytes += size
		}
	}
	return segments, bytes, nil
}

// DropBefore removes every segment file whose records all lie below off.
// off must be the FirstOffset of a segment (see Segments), and not past the
// one holding the newest record, so the WAL never becomes empty and its
// offsets survive a restart; otherwise DropBefore returns an error and
// changes nothing. off equal to the first offset does nothing.
//
// tidwall/wal rewrites the segment that becomes the first one (through a
// .START file and a rename; an interrupted drop is finished by the next
// OpenWAL), so a drop costs up to one SegmentSize of writing, during which
// reads wait. The directory is fsynced before DropBefore returns. A failed
// drop fences the WAL, like a failed write. DropBefore waits for a time-index
// build in progress. A WAL its Budget released is reopened for a drop that
// removes something, but does not count as recently used.
func (w *WAL) DropBefore(off int64) error {
	w.use(false)
	defer w.unuse()
	w.buildMu.Lock()
	defer w.buildMu.Unlock()
	w.mu.Lock()
	if err := w.usableLocked(); err != nil {
		w.mu.Unlock()
		return err
	}
	first, next := w.first.Load(), w.next.Load()
	if off == first {
		w.mu.Unlock()
		return nil
	}
	newest := len(w.segs) - 1
	if w.segs[newest].offset == next && newest > 0 {
		newest-- // an empty tail: the newest record is in the file before it
	}
	if off < first || off > w.segs[newest].offset {
		w.mu.Unlock()
		return dropRangeErr(off, first, next)
	}
	k := sort.Search(len(w.segs), func(k int) bool { return w.segs[k].offset > off }) - 1
	if w.segs[k].offset != off {
		w.mu.Unlock()
		return dropBoundaryErr(off, w.segs[k].offset, w.segs[k+1].offset)
	}
	if err := w.ensureOpenLocked(); err != nil {
		w.mu.Unlock()
		return err
	}
	if err := w.truncateFrontLocked(w.segs[k].index); err != nil {
		err = w.failLocked(fmt.Errorf("drop before offset %d: %w", off, err))
		w.mu.Unlock()
		return err
	}
	tailRewritten := k == len(w.segs)-1
	w.segs = slices.Clone(w.segs[k:])
	w.first.Store(off)
	w.clearHintsLocked()
	w.cache = w.cache[:0] // tidwall clears its read cache
	w.accountLocked()
	if w.tidx != nil {
		w.tidx.dropBefore(off)
	}
	w.created++ // the rename of the .START file
	if tailRewritten {
		if err := w.reopenTailLocked(); err != nil {
			err = w.failLocked(err)
			w.mu.Unlock()
			return err
		}
	}
	created := w.created
	w.mu.Unlock()

	err := w.syncDir()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		return w.failLocked(fmt.Errorf("drop before offset %d: sync directory: %w", off, err))
	}
	w.dirSynced = max(w.dirSynced, created)
	return nil
}

// truncateFrontLocked is tidwall's TruncateFront, safe against file
// content: tidwall indexes the entry table of the segment it cuts at
// before its own recover is in place, so a segment file emptied under the
// WAL (possible while a Budget has it released) panics there, before any
// file is changed. The panic becomes a *CorruptError naming the file;
// tidwall's lock was released by its defer.
func (w *WAL) truncateFrontLocked(i uint64) (err error) {
	defer func() {
		if v := recover(); v != nil {
			r, _ := w.entryRefLocked(i)
			err = r.corrupt(-1, fmt.Errorf("tidwall/wal failed to cut before it (%v): the segment file holds no entries: %w", v, ErrCorrupt))
		}
	}()
	return w.log.TruncateFront(i)
}
