// Package segment is the storage of one partition of an eventlog: an
// append-only sequence of records with contiguous offsets, split into
// segments that retention drops whole from the front.
//
// A store is either a *WAL, kept in files on github.com/tidwall/wal, or a
// *Mem, kept in memory for tests; both have the same method set. The caller
// assigns offsets: every Append continues the store exactly.
//
// Concurrency: one goroutine (the partition's commit loop) calls Append and
// Sync, another may call DropBefore, and any number of goroutines read
// (ReadFrom, ReadAppend, Bounds, OffsetForTime, Segments) at the same time.
// All methods are safe for concurrent use.
//
// tidwall/wal stores opaque entries with no checksum and fails to open after
// a torn write. This package therefore puts one batch of records in each wal
// entry, framed with a format version and a CRC32C (see AppendBatch and
// FORMAT.md), checks every entry it reads, and scans the last segment file
// before wal.Open (ScanSegment): a torn tail is cut back to the last whole
// entry, and anything invalid before the tail is a *CorruptError matching
// ErrCorrupt, never skipped and never a panic.
package segment
