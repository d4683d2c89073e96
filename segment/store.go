package segment

import (
	"errors"
	"fmt"
)

// Errors shared by *WAL and *Mem. Check them with errors.Is: the stores wrap
// them with the offsets involved.
var (
	// ErrOutOfRange is returned by ReadFrom for an offset outside
	// [first, next) and by DropBefore for an offset below the first one or
	// past the start of the segment holding the newest record. Nothing
	// changes.
	ErrOutOfRange = errors.New("segment: offset out of range")

	// ErrClosed is returned by every method of a store after its Close.
	ErrClosed = errors.New("segment: closed")
)

// maxEntryBytes bounds the encoded records in one batch (one wal entry):
// Append splits larger appends into several batches, so a reader never has
// to copy and decode more than about this much to reach one record. A single
// record larger than this gets a batch of its own.
const maxEntryBytes = 1 << 20

// defaultSegmentSize is the SegmentSize of both stores when none is given.
const defaultSegmentSize = 1 << 20

// maxMarkBytes bounds the bytes between two marks of the time index, so an
// OffsetForTime scan reads at most about this much.
const maxMarkBytes = 256 << 10

// markEvery is the time-index density for a store with the given segment
// size: about four marks per segment (plus one at each segment start), and
// never fewer than one per maxMarkBytes.
func markEvery(segmentSize int64) int64 {
	return max(1, min(segmentSize/4, maxMarkBytes))
}

// checkBatch checks that batch is non-empty, starts at next and has
// contiguous offsets. It changes nothing.
func checkBatch(batch []Record, next int64) error {
	if len(batch) == 0 {
		return errors.New("segment: append of an empty batch")
	}
	if batch[0].Offset != next {
		return fmt.Errorf("segment: append at offset %d, want the next offset %d", batch[0].Offset, next)
	}
	for i := range batch {
		if want := next + int64(i); batch[i].Offset != want {
			return fmt.Errorf("segment: append: record %d has offset %d, want %d (offsets must be contiguous)", i, batch[i].Offset, want)
		}
	}
	return nil
}

// splitBatch calls f for each run of batch whose encoded records fit in
// maxEntryBytes (a record larger than that alone), in order, with the run's
// BatchOverhead-plus-records size bound. It stops at the first error.
func splitBatch(batch []Record, f func(run []Record, size int) error) error {
	start, size := 0, 0
	for i := range batch {
		n := EncodedSize(batch[i])
		if i > start && size+n > maxEntryBytes {
			if err := f(batch[start:i], BatchOverhead+size); err != nil {
				return err
			}
			start, size = i, 0
		}
		size += n
	}
	return f(batch[start:], BatchOverhead+size)
}

// outOfRange is the error for a read of off outside [first, next).
func outOfRange(off, first, next int64) error {
	return fmt.Errorf("segment: read at offset %d, have [%d, %d): %w", off, first, next, ErrOutOfRange)
}
