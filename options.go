package eventlog

import (
	"fmt"
	"log/slog"
	"time"
)

// SyncPolicy says when an appended record counts as durable, and so when
// Produce returns and readers may see it.
type SyncPolicy int

const (
	// SyncAlways fsyncs before Produce returns. Concurrent appends to a
	// partition share one fsync (group commit). It is the zero value, so a
	// caller who sets nothing gets the safe policy.
	SyncAlways SyncPolicy = iota
	// SyncInterval acknowledges a record once it is written to the operating
	// system and fsyncs each partition at most Options.SyncInterval after it
	// was written to. A crash of the process loses nothing; a crash of the
	// machine (power loss, kernel panic) can lose the records acknowledged in
	// the last interval.
	SyncInterval
	// SyncNever acknowledges a record once it is written to the operating
	// system and leaves flushing to it (Close still fsyncs). A crash of the
	// process loses nothing; a crash of the machine can lose any record
	// acknowledged since the last Close.
	SyncNever
)

// String returns the policy's name, such as "SyncAlways".
func (s SyncPolicy) String() string {
	switch s {
	case SyncAlways:
		return "SyncAlways"
	case SyncInterval:
		return "SyncInterval"
	case SyncNever:
		return "SyncNever"
	}
	return fmt.Sprintf("SyncPolicy(%d)", int(s))
}

// Options configures a Log. A nil *Options and the zero Options are valid
// and mean "all defaults"; each field says what its zero value does.
// Open copies the Options; changing them afterwards has no effect.
//
// # Memory
//
// tidwall/wal keeps each partition's newest segment file whole in memory and
// caches SegmentCacheSize older segments while they are read. The Log bounds
// that memory across all partitions by MaxResidentBytes: when over, the
// least recently used idle partitions close their tidwall log (keeping only
// their offsets and indexes in memory) and reopen it, reading their newest
// segment file, when next written or read. The resident memory of a
// file-backed Log is therefore about
//
//	min(MaxResidentBytes, partitions × SegmentSize × (1 + SegmentCacheSize))
//	+ producer buffers (ProducerOptions.MaxBufferedBytes each)
//	+ index (a few hundred bytes per partition and per MiB of log)
//	+ up to 8 MiB per partition being read by several readers at once
//	  (batches decoded once and shared by them; counted in MaxResidentBytes)
//	+ about 2 MiB per partition being written at that moment (a batch of up
//	  to 512 KiB in its encoded forms, from pools shared by all partitions)
//
// and often less: a partition's newest segment holds only what was written
// to it since it last filled up, and a partition that is only written to
// does not keep the segments it filled cached. A partition in the middle of an Append or a
// read is never released, so the bound can be exceeded by the partitions
// being written or read at that moment (at most one segment, plus the cache,
// each). Memory a released partition held is freed by Go's garbage
// collector, which by default lets the heap grow to twice what is live
// before collecting (GOGC); set GOMEMLIMIT to bound the process as a whole.
//
// With the defaults (1 MiB segments, one cached segment, 128 MiB) 1,000 idle
// partitions whose tails are full keep at most 128 MiB of them in memory, and
// 1,000 partitions holding a few records each a few megabytes. Lower
// SegmentSize for many busy partitions on a small machine; raise it for a few
// very busy ones (fewer files, fewer fsyncs of new files). Raise
// MaxResidentBytes when many partitions are busy at once: a partition
// released and reopened for every write costs a read of its newest segment
// file each time.
type Options struct {
	// InMemory keeps every partition in memory and writes no files.
	// Open must then be given an empty dir. Meant for tests.
	InMemory bool

	// Sync is the durability policy. Zero is SyncAlways.
	Sync SyncPolicy

	// SyncInterval is the longest a written record waits for its fsync
	// under SyncInterval. Zero means 100ms; it is ignored under other policies.
	SyncInterval time.Duration

	// SegmentSize is the target size in bytes of one segment file: a
	// partition starts a new file once its newest reaches this size, and
	// retention deletes whole files. See "Memory" above. Zero means 1 MiB.
	SegmentSize int64

	// SegmentCacheSize is how many older segments of a partition stay in
	// memory while it is being read. Zero means 1.
	SegmentCacheSize int

	// MaxResidentBytes bounds the segment memory of all partitions
	// together: the newest segment of each partition plus its cached older
	// ones, which tidwall/wal holds in memory. Over it, idle partitions are
	// released until used again (see "Memory" above for the formula and the
	// exceptions). Zero means 128 MiB; there is no "unlimited", but a value
	// of partitions × SegmentSize × (1 + SegmentCacheSize) or more never
	// releases anything. InMemory logs ignore it: their records are the
	// memory.
	MaxResidentBytes int64

	// MaxRecordSize bounds the encoded size of one record (key, value,
	// headers and a few bytes of framing); larger records fail with
	// ErrRecordTooLarge. Zero means 1 MiB, Kafka's default.
	MaxRecordSize int

	// RetentionCheckInterval is how often the Log applies each topic's
	// Retention and RetentionBytes. Zero means one minute.
	RetentionCheckInterval time.Duration

	// Logger receives warnings, such as a torn tail cut off at Open or a
	// partition fenced after a failed write. Nil means no logging.
	Logger *slog.Logger

	// hooks are for this package's own tests; users cannot set them.
	hooks struct {
		wrapStore func(partitionStore) partitionStore
	}
}

// withDefaults returns a copy of o with every zero field replaced by its
// default. It accepts a nil receiver and never writes through o.
func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.SyncInterval == 0 {
		c.SyncInterval = 100 * time.Millisecond
	}
	if c.SegmentSize == 0 {
		c.SegmentSize = 1 << 20
	}
	if c.SegmentCacheSize == 0 {
		c.SegmentCacheSize = 1
	}
	if c.MaxResidentBytes == 0 {
		c.MaxResidentBytes = 128 << 20
	}
	if c.MaxRecordSize == 0 {
		c.MaxRecordSize = 1 << 20
	}
	if c.RetentionCheckInterval == 0 {
		c.RetentionCheckInterval = time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// validate reports the first setting that cannot work. It runs after
// withDefaults, so zero values never reach it.
func (o Options) validate(dir string) error {
	switch {
	case o.InMemory && dir != "":
		return fmt.Errorf("InMemory log given a directory %q: %w", dir, ErrInvalidConfig)
	case !o.InMemory && dir == "":
		return fmt.Errorf("empty directory (set Options.InMemory for a log without files): %w", ErrInvalidConfig)
	case o.Sync < SyncAlways || o.Sync > SyncNever:
		return fmt.Errorf("unknown %v: %w", o.Sync, ErrInvalidConfig)
	case o.SyncInterval < 0, o.RetentionCheckInterval < 0:
		return fmt.Errorf("negative interval: %w", ErrInvalidConfig)
	case o.SegmentSize < 0, o.SegmentCacheSize < 0, o.MaxRecordSize < 0, o.MaxResidentBytes < 0:
		return fmt.Errorf("negative SegmentSize, SegmentCacheSize, MaxRecordSize or MaxResidentBytes: %w", ErrInvalidConfig)
	case o.MaxRecordSize > maxRecordSizeLimit:
		return fmt.Errorf("MaxRecordSize %d over the limit of %d: %w", o.MaxRecordSize, maxRecordSizeLimit, ErrInvalidConfig)
	}
	return nil
}

// maxRecordSizeLimit keeps one record, and so one stored batch, well inside
// what a 32-bit length can describe and what fits comfortably in memory.
const maxRecordSizeLimit = 256 << 20
