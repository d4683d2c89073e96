package eventlog

import (
	"context"
	"fmt"
	"iter"
	"sync/atomic"
	"time"

	"github.com/eventlog/eventlog/segment"
)

// readBatchBytes is about how much a Read fetches from storage at a time:
// the size of the largest stored batch, so no batch is decoded twice.
const readBatchBytes = 1 << 20

// Partition is one ordered, append-only sequence of records of a topic.
// Get one from Topic.Partition. It is safe for concurrent use.
//
// Readers see a record only once it is durable under Options.Sync: the
// partition's high watermark, NextOffset, moves past a record after its
// fsync (SyncAlways) or its write (other policies).
type Partition struct {
	log   *Log
	t     *Topic
	topic string
	id    int
	store partitionStore

	reqs    chan *appendReq // unbuffered: a send succeeds only while commitLoop receives
	grew    notifier        // broadcast after every durable append
	durable atomic.Int64    // high watermark: readers see offsets below it
	stats   partitionCounters

	// Owned by commitLoop.
	failed      error // sticky: set by the first failed write or sync
	dirty       bool  // written but not yet synced (SyncInterval)
	wokeReaders bool  // the last commit woke waiting readers
}

// Topic returns the name of the partition's topic.
func (p *Partition) Topic() string { return p.topic }

// ID returns the partition's number within its topic.
func (p *Partition) ID() int { return p.id }

// FirstOffset returns the offset of the oldest record still held: 0 until
// retention deletes something, and equal to NextOffset when the partition
// holds no records.
func (p *Partition) FirstOffset() int64 {
	first, _ := p.store.Bounds()
	return min(first, p.durable.Load())
}

// NextOffset returns the offset the next record will get: one past the
// newest durable record. It is the high watermark: Read ends there.
func (p *Partition) NextOffset() int64 { return p.durable.Load() }

// done is closed when the Log closes or the topic is deleted; doneErr says
// which (ErrClosed, or an error wrapping ErrUnknownTopic).
func (p *Partition) done() <-chan struct{} { return p.t.ctx.Done() }
func (p *Partition) doneErr() error        { return context.Cause(p.t.ctx) }

// Read returns an iterator over the records of p from offset from up to
// NextOffset as of the call. Each step yields a record and a nil error; if
// reading fails, the last step yields the zero Record and the error.
// Stopping the loop early is fine and releases everything Read holds.
// Read does not wait for new records; Tail does.
//
// Reading from below FirstOffset or above NextOffset yields an error
// wrapping ErrOffsetOutOfRange; from == NextOffset yields nothing. Damaged
// storage yields a *CorruptError. The records' Key, Value and Headers are
// the caller's to keep and modify.
func (p *Partition) Read(ctx context.Context, from int64) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		end := p.durable.Load() // later appends are not yielded; nor is anything not yet durable
		p.readRange(ctx, from, end, yield)
	}
}

// readRange yields the records in [from, end) and reports whether the
// caller may go on (no error was yielded and yield never returned false).
func (p *Partition) readRange(ctx context.Context, from, end int64, yield func(Record, error) bool) bool {
	if err := p.checkOpen(ctx); err != nil {
		yield(Record{}, err)
		return false
	}
	first, _ := p.store.Bounds()
	if from < first || from > end {
		yield(Record{}, fmt.Errorf("read %s/%d from %d (have %d..%d): %w",
			p.topic, p.id, from, first, end, ErrOffsetOutOfRange))
		return false
	}
	var buf []segment.Record // reused: each record is converted before it is yielded
	for off := from; off < end; {
		if err := p.checkOpen(ctx); err != nil {
			yield(Record{}, err)
			return false
		}
		// Fetch a batch, then yield with no lock held: the loop body is
		// the caller's code and may call back into this partition.
		batch, err := p.store.ReadAppend(buf[:0], off, readBatchBytes)
		buf = batch
		if err != nil {
			yield(Record{}, p.storeError(err))
			return false
		}
		if len(batch) == 0 || batch[0].Offset != off {
			yield(Record{}, &CorruptError{Topic: p.topic, Partition: p.id, Offset: off,
				Err: fmt.Errorf("storage returned no record for offset %d", off)})
			return false
		}
		p.stats.noteRead(batch, end)
		for i := range batch {
			if batch[i].Offset >= end {
				return true
			}
			if !yield(p.record(&batch[i]), nil) {
				return false
			}
			off = batch[i].Offset + 1
		}
	}
	return true
}

// checkOpen returns why reading must stop: ctx ended, the Log closed or
// the topic was deleted.
func (p *Partition) checkOpen(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-p.done():
		return p.doneErr()
	default:
		return nil
	}
}

// Tail is like Read but does not stop at the end: it waits for new records
// and yields each once it is durable, until ctx ends (yielding ctx.Err())
// or the Log is closed (yielding ErrClosed). It is woken by appends; it
// never polls.
func (p *Partition) Tail(ctx context.Context, from int64) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		next := from
		for {
			grew := p.grew.wait() // before reading, so no append slips between
			end := p.durable.Load()
			if next != end {
				if !p.readRange(ctx, next, end, yield) {
					return
				}
				next = end
				continue
			}
			select {
			case <-grew:
			case <-ctx.Done():
				yield(Record{}, ctx.Err())
				return
			case <-p.done():
				yield(Record{}, p.doneErr())
				return
			}
		}
	}
}

// OffsetForTime returns the first offset whose record has Time >= ts, as
// Kafka's offsetsForTimes does, or NextOffset if there is none. Record
// times need not increase with offsets; the answer is exact either way.
// It takes O(log n) steps over an in-memory index plus a short scan.
func (p *Partition) OffsetForTime(ts time.Time) (int64, error) {
	if err := p.checkOpen(context.Background()); err != nil {
		return 0, err
	}
	end := p.durable.Load()
	off, err := p.store.OffsetForTime(ts.UnixNano())
	if err != nil {
		return 0, p.storeError(err)
	}
	return min(off, end), nil
}

// record converts a stored record of p.
func (p *Partition) record(sr *segment.Record) Record {
	return Record{
		Topic:     p.topic,
		Partition: p.id,
		Offset:    sr.Offset,
		Time:      time.Unix(0, sr.Time),
		Key:       sr.Key,
		Value:     sr.Value,
		Headers:   fromSegmentHeaders(sr.Headers),
	}
}
