package eventlog

import (
	"cmp"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/eventlog/eventlog/segment"
)

// Stats is a snapshot of a Log's metrics, taken by Log.Stats. It is a plain
// value: it holds no reference into the Log and does not change after it is
// returned. Counters count since Open; they start at zero at every Open and
// do not survive Close.
//
// The snapshot is not atomic across partitions: each partition's values
// are read one after another while appends and reads go on, so Total may
// differ slightly from a sum taken an instant later.
type Stats struct {
	// Partitions holds every partition of every topic, sorted by topic and
	// partition, including those of the internal __consumer_offsets topic
	// (present once a consumer group exists), whose appends are group
	// commits.
	Partitions []PartitionStats

	// Total sums the IOStats of Partitions. Its MaxBatchRecords and
	// MaxFsyncTime are the largest of any partition.
	Total IOStats

	// Memory describes the tidwall/wal memory held under
	// Options.MaxResidentBytes. It is zero for an InMemory log.
	Memory MemoryStats

	// Groups holds the lag of every consumer group obtained with
	// Log.ConsumerGroup since Open (and not deleted), sorted by name.
	Groups []GroupStats
}

// PartitionStats is one partition's metrics.
type PartitionStats struct {
	// Topic and Partition name the partition.
	Topic     string
	Partition int
	// FirstOffset and NextOffset are the partition's Partition.FirstOffset
	// and Partition.NextOffset (the high watermark).
	FirstOffset int64
	NextOffset  int64
	IOStats
}

// IOStats counts one partition's appends, fsyncs and reads since Open, and
// measures its storage now.
type IOStats struct {
	// AppendedRecords is the number of records appended: made durable under
	// Options.Sync and visible to readers. Failed appends do not count.
	AppendedRecords int64
	// AppendedBytes is the payload of those records, in bytes: the lengths
	// of their keys and values and of their headers' keys and values. The
	// encoding on disk adds a few bytes per record and per batch.
	AppendedBytes int64
	// AppendBatches is the number of batches (group commits) those records
	// were written in; under SyncAlways each is one fsync. Records per batch
	// is AppendedRecords / AppendBatches (see RecordsPerBatch).
	AppendBatches int64
	// MaxBatchRecords is the number of records in the largest batch.
	MaxBatchRecords int64

	// Fsyncs is the number of fsyncs run for appends: one per batch under
	// SyncAlways, one per SyncInterval period with writes under
	// SyncInterval, none under SyncNever or for an InMemory log. The fsyncs
	// done by Close, and by
	// tidwall/wal when a segment file fills or a WAL is released under
	// Options.MaxResidentBytes, do not count. Failed fsyncs count.
	Fsyncs int64
	// FsyncTime is the total wall-clock time spent in those fsyncs.
	FsyncTime time.Duration
	// MaxFsyncTime is the longest of them.
	MaxFsyncTime time.Duration

	// ReadRecords is the number of records fetched from storage for Read,
	// Tail and Consumer.Poll. A reader that stops early may leave some of
	// them unseen, and Poll fetches ahead of what it returns.
	ReadRecords int64
	// ReadBatches is the number of fetches from storage those records took.
	ReadBatches int64

	// Segments is the number of segment files holding records now, and
	// SegmentBytes their total size in bytes (for an InMemory log, the size
	// they would take on disk). Both are zero if the partition's storage
	// could not be asked, such as after its topic was deleted.
	Segments     int
	SegmentBytes int64
}

// RecordsPerBatch returns the mean number of records per append batch,
// AppendedRecords / AppendBatches, or 0 if nothing was appended.
func (s IOStats) RecordsPerBatch() float64 {
	if s.AppendBatches == 0 {
		return 0
	}
	return float64(s.AppendedRecords) / float64(s.AppendBatches)
}

// add adds o to s, keeping the larger of the maxima.
func (s *IOStats) add(o IOStats) {
	s.AppendedRecords += o.AppendedRecords
	s.AppendedBytes += o.AppendedBytes
	s.AppendBatches += o.AppendBatches
	s.MaxBatchRecords = max(s.MaxBatchRecords, o.MaxBatchRecords)
	s.Fsyncs += o.Fsyncs
	s.FsyncTime += o.FsyncTime
	s.MaxFsyncTime = max(s.MaxFsyncTime, o.MaxFsyncTime)
	s.ReadRecords += o.ReadRecords
	s.ReadBatches += o.ReadBatches
	s.Segments += o.Segments
	s.SegmentBytes += o.SegmentBytes
}

// MemoryStats describes the memory tidwall/wal holds for a Log's
// partitions, which Options.MaxResidentBytes bounds.
type MemoryStats struct {
	// ResidentBytes is the estimated memory held now, in bytes: for each
	// loaded partition, its tail segment plus its cached sealed segments.
	ResidentBytes int64
	// MaxResidentBytes is Options.MaxResidentBytes, in bytes.
	MaxResidentBytes int64
	// LoadedPartitions is the number of partitions holding their storage
	// loaded now.
	LoadedPartitions int
	// Releases is the number of times since Open a partition's storage was
	// unloaded to stay within MaxResidentBytes. A count that grows about as
	// fast as appends and reads means the budget is too small: each
	// operation then reloads a segment file.
	Releases int64
}

// GroupStats is one consumer group's lag.
type GroupStats struct {
	// Name is the group's name.
	Name string
	// Lag is what ConsumerGroup.Lag returns: one entry per partition of the
	// group's topics, sorted by topic and partition.
	Lag []PartitionLag
	// TotalLag is the sum of Lag's Lag fields, in records.
	TotalLag int64
}

// Stats returns a snapshot of the Log's metrics. It is cheap enough to
// call every few seconds from a metrics exporter: it reads counters the
// partitions keep as they go, and asks each partition's storage for its
// segment sizes from memory, without reading data or reloading storage
// released under Options.MaxResidentBytes. It is safe for concurrent use,
// also with appends and reads in progress.
//
// After Close, Stats returns the zero Stats: the counters end with the
// Log. Take a last snapshot before Close if it is needed.
func (l *Log) Stats() Stats {
	if l.isClosed() {
		return Stats{}
	}
	var s Stats
	topics := *l.topics.Load()
	for _, name := range slices.Sorted(maps.Keys(topics)) {
		for _, p := range topics[name].parts {
			ps := p.stats.snapshot()
			ps.Topic, ps.Partition = p.topic, p.id
			ps.NextOffset = p.NextOffset()
			ps.FirstOffset = p.FirstOffset()
			ps.Segments, ps.SegmentBytes = diskUsage(p.store)
			s.Total.add(ps.IOStats)
			s.Partitions = append(s.Partitions, ps)
		}
	}
	if b := l.budget; b != nil {
		s.Memory = MemoryStats{
			ResidentBytes:    b.Used(),
			MaxResidentBytes: b.Max(),
			LoadedPartitions: b.Loaded(),
			Releases:         b.Releases(),
		}
	}
	for _, g := range l.groupList() {
		lag, err := g.Lag()
		if err != nil {
			continue // the Log closed meanwhile
		}
		gs := GroupStats{Name: g.name, Lag: lag}
		for _, pl := range lag {
			gs.TotalLag += pl.Lag
		}
		s.Groups = append(s.Groups, gs)
	}
	if l.isClosed() {
		return Stats{} // closed meanwhile: keep the promise of a zero Stats
	}
	return s
}

// groupList returns the Log's consumer groups, sorted by name.
func (l *Log) groupList() []*ConsumerGroup {
	l.groups.mu.Lock()
	defer l.groups.mu.Unlock()
	gs := slices.Collect(maps.Values(l.groups.groups))
	slices.SortFunc(gs, func(a, b *ConsumerGroup) int { return cmp.Compare(a.name, b.name) })
	return gs
}

// diskUser is the optional ability of a store to report its segment count
// and bytes without reading data (segment.WAL and segment.Mem have it).
type diskUser interface {
	DiskUsage() (segments int, bytes int64, err error)
}

var (
	_ diskUser = (*segment.Mem)(nil)
	_ diskUser = (*segment.WAL)(nil)
)

// diskUsage returns the segment count and bytes of s, or zeros if s cannot
// tell (it is closed, or a test's wrapper without DiskUsage: Segments could
// reload a released WAL, so it is not asked).
func diskUsage(s partitionStore) (segments int, bytes int64) {
	du, ok := s.(diskUser)
	if !ok {
		return 0, 0
	}
	n, b, err := du.DiskUsage()
	if err != nil {
		return 0, 0
	}
	return n, b
}

// partitionCounters are a partition's metrics counters. The commit loop is
// the only writer of the append and fsync counters, so it updates them
// without read-modify-write races (the maxima are a plain Load and Store);
// readers add to the read counters once per fetch from storage. Stats loads
// them all concurrently.
type partitionCounters struct {
	records, bytes, batches, maxBatch atomic.Int64 // commit loop only
	fsyncs, fsyncNanos, maxFsyncNanos atomic.Int64 // commit loop only
	readRecords, readBatches          atomic.Int64
}

// noteAppend counts a batch of n records and size payload bytes made
// durable. Only the commit loop calls it.
func (c *partitionCounters) noteAppend(n, size int64) {
	c.records.Add(n)
	c.bytes.Add(size)
	c.batches.Add(1)
	if n > c.maxBatch.Load() {
		c.maxBatch.Store(n)
	}
}

// noteFsync counts one fsync that took d. Only the commit loop calls it.
func (c *partitionCounters) noteFsync(d time.Duration) {
	c.fsyncs.Add(1)
	c.fsyncNanos.Add(int64(d))
	if int64(d) > c.maxFsyncNanos.Load() {
		c.maxFsyncNanos.Store(int64(d))
	}
}

// noteRead counts a fetch from storage whose records below end are read.
func (c *partitionCounters) noteRead(batch []segment.Record, end int64) {
	n := 0
	for n < len(batch) && batch[n].Offset < end {
		n++
	}
	c.noteReadCount(n)
}

// noteReadCount counts a fetch from storage of n records.
func (c *partitionCounters) noteReadCount(n int) {
	c.readRecords.Add(int64(n))
	c.readBatches.Add(1)
}

// snapshot returns the counters as a PartitionStats with only its
// IOStats counters filled in.
func (c *partitionCounters) snapshot() PartitionStats {
	return PartitionStats{IOStats: IOStats{
		AppendedRecords: c.records.Load(),
		AppendedBytes:   c.bytes.Load(),
		AppendBatches:   c.batches.Load(),
		MaxBatchRecords: c.maxBatch.Load(),
		Fsyncs:          c.fsyncs.Load(),
		FsyncTime:       time.Duration(c.fsyncNanos.Load()),
		MaxFsyncTime:    time.Duration(c.maxFsyncNanos.Load()),
		ReadRecords:     c.readRecords.Load(),
		ReadBatches:     c.readBatches.Load(),
	}}
}

// payloadSize is what a record adds to IOStats.AppendedBytes: the lengths
// of its key, value, and headers' keys and values.
func payloadSize(r *Record) int64 {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return int64(n)
}
