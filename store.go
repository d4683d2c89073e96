package eventlog

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"

	"github.com/eventlog/eventlog/segment"
)

// partitionStore is what a Partition needs from its storage. segment.WAL
// (files on tidwall/wal) and segment.Mem (InMemory logs) satisfy it, and
// tests wrap it to inject faults. Only the partition's commit loop calls
// Append and Sync; the Log's retention pass calls DropBefore. ReadFrom,
// Bounds, OffsetForTime and Segments run concurrently with all of them.
type partitionStore interface {
	// Append writes one batch whose offsets continue the store.
	Append(batch []segment.Record) error
	// Sync makes every appended batch durable.
	Sync() error
	// ReadFrom returns records from off on, about maxBytes of them but at
	// least one if off is below the next offset.
	ReadFrom(off int64, maxBytes int) ([]segment.Record, error)
	// ReadAppend is ReadFrom appending to dst, whose spare capacity it may
	// decode into.
	ReadAppend(dst []segment.Record, off int64, maxBytes int) ([]segment.Record, error)
	// Bounds returns the first offset held and the offset of the next append.
	Bounds() (first, next int64)
	// OffsetForTime returns the first offset whose time is >= unixNano.
	OffsetForTime(unixNano int64) (int64, error)
	// Segments describes the segments, oldest first.
	Segments() ([]segment.Info, error)
	// DropBefore removes the whole segments below off, a segment boundary.
	DropBefore(off int64) error
	// Close syncs and releases the store.
	Close() error
}

var (
	_ partitionStore = (*segment.Mem)(nil)
	_ partitionStore = (*segment.WAL)(nil)
)

// openStore opens the storage of one partition: in memory, or the files
// under dir.
func (l *Log) openStore(dir string) (partitionStore, error) {
	var s partitionStore
	if l.opts.InMemory {
		s = segment.NewMem(segment.MemOptions{SegmentSize: l.opts.SegmentSize})
	} else {
		w, err := segment.OpenWAL(dir, segment.WALOptions{
			SegmentSize:   l.opts.SegmentSize,
			CacheSegments: l.opts.SegmentCacheSize,
			Logger:        l.opts.Logger,
			Budget:        l.budget,
			// With an fsync after every append, a tail whose size does not
			// change makes each one cheaper (see WALOptions.Preallocate).
			Preallocate: l.opts.Sync == SyncAlways,
		})
		if err != nil {
			return nil, err
		}
		s = w
	}
	if wrap := l.opts.hooks.wrapStore; wrap != nil {
		s = wrap(s)
	}
	return s, nil
}

// storeError turns an error from partition p's store into the package's
// errors: corruption becomes a located *CorruptError, a range error
// ErrOffsetOutOfRange, a full disk ErrNoSpace, a closed store ErrClosed.
func (p *Partition) storeError(err error) error {
	if err == nil {
		return nil
	}
	var se *segment.CorruptError
	switch {
	case errors.As(err, &se):
		file := se.File
		if rel, rerr := filepath.Rel(p.log.dir, file); rerr == nil && p.log.dir != "" {
			file = rel
		}
		return &CorruptError{Topic: p.topic, Partition: p.id, File: file, Offset: se.Offset, Err: se.Err}
	case errors.Is(err, segment.ErrCorrupt):
		return &CorruptError{Topic: p.topic, Partition: p.id, Offset: -1, Err: err}
	case errors.Is(err, segment.ErrOutOfRange):
		return fmt.Errorf("partition %s/%d: %w (%w)", p.topic, p.id, ErrOffsetOutOfRange, err)
	case errors.Is(err, segment.ErrClosed):
		return fmt.Errorf("partition %s/%d: %w", p.topic, p.id, ErrClosed)
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("partition %s/%d: %w: %w", p.topic, p.id, ErrNoSpace, err)
	}
	return fmt.Errorf("partition %s/%d: %w", p.topic, p.id, err)
}
