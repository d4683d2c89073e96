package segment

import "fmt"

// zeros is what preallocateLocked writes, a block at a time.
var zeros = make([]byte, 64<<10)

// preallocAfterSyncs is how many Syncs a tail sees before it is
// preallocated.
const preallocAfterSyncs = 8

// preallocateLocked fills the tail file with zeros from its end up to
// SegmentSize, if Preallocate is set and that is not done yet. tidwall
// writes each entry over the zeros, in place, so the file's size stops
// changing and Sync's fdatasync has no metadata to commit. The first Sync
// after it pays for the new size once.
//
// Only the tail is ever preallocated, and only up to SegmentSize: tidwall
// seals a segment once its entries reach SegmentSize, so by then they have
// overwritten every zero, and a sealed segment holds none.
//
// It waits until the tail has seen preallocAfterSyncs Syncs: the zeros
// double the bytes written, which pays only when many small syncs share a
// segment, not when a few large batches fill it (async produce).
//
// A failed write of zeros loses nothing (no record is in them, and what
// was written is zeros): the WAL stops preallocating, and says so.
func (w *WAL) preallocateLocked() {
	if !w.opts.Preallocate || w.preallocOff || w.tailFile == nil || w.tailSyncs < preallocAfterSyncs {
		return
	}
	end := w.opts.SegmentSize
	off := max(w.tailSize, w.tailBytes)
	if off >= end {
		return
	}
	for off < end {
		n, err := w.tailFile.WriteAt(zeros[:min(int64(len(zeros)), end-off)], off)
		off += int64(n)
		w.tailSize = off
		if err != nil {
			w.preallocOff = true
			w.opts.Logger.Warn("segment: preallocating the tail failed; appends go on without it",
				"dir", w.dir, "err", err)
			return
		}
	}
}

// trimPreallocLocked cuts the preallocated zeros off the tail file, before
// the WAL closes or is released, so that no file at rest holds them: the
// files are then exactly what tidwall wrote, for tidwall's next open and
// for tools. The fsync of tidwall's Close that follows makes the new size
// durable.
func (w *WAL) trimPreallocLocked() error {
	if w.tailFile == nil || w.tailSize <= w.tailBytes {
		return nil
	}
	if err := w.tailFile.Truncate(w.tailBytes); err != nil {
		return fmt.Errorf("segment: cut the preallocated tail of %s: %w", w.dir, err)
	}
	w.tailSize = w.tailBytes
	return nil
}
