package main

import (
	"context"
	"encoding/binary"
	"fmt"
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
