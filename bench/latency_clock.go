package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// sendSchedule spaces the sends of a latency run at a fixed rate. Send i is
// due at start + i/rate; a sender that falls behind sends at once (no
// catching up by skipping), so a slow system shows up as queueing latency.
// A zero rate never waits. Every latency case shares it.
type sendSchedule struct {
	start  time.Time
	period time.Duration
}

// newSendSchedule starts a schedule of rate sends per second now.
func newSendSchedule(rate int) sendSchedule {
	s := sendSchedule{start: time.Now()}
	if rate > 0 {
		s.period = time.Second / time.Duration(rate)
	}
	return s
}

// wait blocks until send i is due or ctx is done.
func (s sendSchedule) wait(ctx context.Context, i int) error {
	if s.period == 0 {
		return ctx.Err()
	}
	d := time.Until(s.start.Add(time.Duration(i) * s.period))
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for send %d: %w", i, ctx.Err())
	}
}

// seqBytes is how many leading value bytes carry a record's sequence number.
const seqBytes = 8

// warmupSeq marks the untimed record a latency run sends first to know the
// consumer is attached.
const warmupSeq = ^uint64(0)

// seqValue returns a value of size bytes (at least seqBytes) whose first
// bytes hold seq, so the consumer can match an arrival to its send even
// when the system reorders.
func seqValue(seq uint64, size int) []byte {
	v := make([]byte, max(size, seqBytes))
	binary.BigEndian.PutUint64(v, seq)
	return v
}

// valueSeq reads back the sequence number seqValue wrote; ok is false for a
// value too short to hold one.
func valueSeq(v []byte) (seq uint64, ok bool) {
	if len(v) < seqBytes {
		return 0, false
	}
	return binary.BigEndian.Uint64(v), true
}

// latencyClock records send starts and arrivals as offsets from one
// monotonic base. Its slots are atomic because the send and the arrival are
// on different goroutines that may only be ordered through a socket, which
// the race detector cannot see.
type latencyClock struct {
	base   time.Time
	starts []atomic.Int64
}

// newLatencyClock returns a clock for n sends.
func newLatencyClock(n int) *latencyClock {
	return &latencyClock{base: time.Now(), starts: make([]atomic.Int64, n)}
}

// now is the current offset from the base.
func (c *latencyClock) now() time.Duration { return time.Since(c.base) }

// sent records that send i starts now.
func (c *latencyClock) sent(i int) { c.starts[i].Store(int64(c.now())) }

// since returns the time from send i's start to the arrival at offset at.
func (c *latencyClock) since(i int, at time.Duration) time.Duration {
	return at - time.Duration(c.starts[i].Load())
}

// arrivals matches the arrivals of a latency run to their sends by the
// sequence number in each value (see seqValue) and keeps every timed
// record's latency on clock. It expects warmups warm-up records (warmupSeq)
// and one arrival of each sequence number below the number of records.
// Its methods are safe for concurrent use, as a consumer may deliver on
// several goroutines at once.
type arrivals struct {
	clock   *latencyClock
	warmups int
	ready   chan struct{} // closed once every warm-up record has arrived
	done    chan struct{} // closed once every timed record has arrived

	mu     sync.Mutex
	lats   []time.Duration // lats[i] is send i's latency; complete once done is closed
	seen   []bool
	got    int           // timed records arrived
	warmed int           // warm-up records arrived
	last   time.Duration // clock offset of the latest timed arrival
}

// newArrivals returns the arrivals of records timed records, preceded by
// warmups warm-up records, with a clock of its own for the sends.
func newArrivals(records, warmups int) *arrivals {
	a := &arrivals{
		clock:   newLatencyClock(records),
		warmups: warmups,
		ready:   make(chan struct{}),
		done:    make(chan struct{}),
		lats:    make([]time.Duration, records),
		seen:    make([]bool, records),
	}
	if warmups == 0 {
		close(a.ready)
	}
	if records == 0 {
		close(a.done)
	}
	return a
}

// arrive records the arrival of value v at clock offset at (taken by the
// caller the moment the value was in its hands). It fails, recording
// nothing, for a value without a sequence number, one out of range, one
// that arrived before, or a warm-up record more than expected.
func (a *arrivals) arrive(v []byte, at time.Duration) error {
	seq, ok := valueSeq(v)
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case !ok:
		return fmt.Errorf("value of %d bytes carries no sequence number", len(v))
	case seq == warmupSeq:
		if a.warmed == a.warmups {
			return fmt.Errorf("warm-up record after the %d expected", a.warmups)
		}
		if a.warmed++; a.warmed == a.warmups {
			close(a.ready)
		}
		return nil
	case seq >= uint64(len(a.lats)):
		return fmt.Errorf("sequence %d out of range: %d records sent", seq, len(a.lats))
	case a.seen[seq]:
		return fmt.Errorf("repeated sequence %d", seq)
	}
	a.seen[seq] = true
	a.lats[seq] = a.clock.since(int(seq), at)
	a.last = max(a.last, at)
	if a.got++; a.got == len(a.lats) {
		close(a.done)
	}
	return nil
}

// arrived is the number of timed records arrived so far.
func (a *arrivals) arrived() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return int64(a.got)
}

// warmedUp is the number of warm-up records arrived so far.
func (a *arrivals) warmedUp() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return int64(a.warmed)
}

// complete reports whether every timed record has arrived.
func (a *arrivals) complete() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// result is the Result of the run whose first send started at clock offset
// first: the records arrived, the time from first to the last arrival, and
// the latencies.
func (a *arrivals) result(first time.Duration) Result {
	a.mu.Lock()
	defer a.mu.Unlock()
	return Result{Records: a.got, Elapsed: a.last - first, Latencies: a.lats}
}
