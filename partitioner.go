package eventlog

import (
	"sync"

	"github.com/eventlog/eventlog/internal/murmur2"
)

// A Partitioner chooses the partition of each record a Producer is given.
// The Producer calls it from the goroutine that called Produce or
// ProduceAsync, so it must be safe for concurrent use. It must return a
// value in [0, n) (anything else fails the record with ErrUnknownPartition)
// and must not keep rec or its slices.
type Partitioner interface {
	Partition(rec Record, n int) int
}

// PartitionerFunc lets an ordinary function be a Partitioner.
type PartitionerFunc func(rec Record, n int) int

// Partition returns f(rec, n).
func (f PartitionerFunc) Partition(rec Record, n int) int { return f(rec, n) }

// ManualPartitioner returns a Partitioner that sends every record to the
// partition named by its Partition field, for producers that choose
// partitions themselves.
func ManualPartitioner() Partitioner {
	return PartitionerFunc(func(rec Record, n int) int { return rec.Partition })
}

// stickyBatchBytes is how many bytes of unkeyed records go to one partition
// before the default partitioner moves to the next (Kafka's batch.size).
const stickyBatchBytes = 16 << 10

// defaultPartitioner is what a Producer uses when ProducerOptions names no
// Partitioner: a keyed record goes where Kafka's default partitioner puts
// it, murmur2(key) mod n; unkeyed records go to one partition in sticky
// batches of about 16 KiB, then to the next, as Kafka's producer does since
// KIP-480, so they are appended in few large batches.
type defaultPartitioner struct {
	mu     sync.Mutex
	sticky map[string]*stickyState // by topic
}

type stickyState struct {
	part  int
	bytes int
}

// partition picks rec's partition among n; size is rec's encoded size.
func (d *defaultPartitioner) partition(rec *Record, n, size int) int {
	if rec.Key != nil {
		return murmur2.Partition(rec.Key, n)
	}
	if n == 1 {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.sticky[rec.Topic]
	if s == nil {
		if d.sticky == nil {
			d.sticky = make(map[string]*stickyState)
		}
		s = &stickyState{part: len(d.sticky) % n}
		d.sticky[rec.Topic] = s
	}
	if s.bytes >= stickyBatchBytes {
		s.part, s.bytes = (s.part+1)%n, 0
	}
	s.part %= n
	s.bytes += size
	return s.part
}
