package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// runNatsLatency publishes p.Records messages of p.Size bytes at p.Rate per
// second (0: back to back) with js.Publish, which returns once the stream
// has stored the message and acked it: that is how a user writes to a
// durable log (a core nc.Publish to the stream's subject would be faster
// but lets the message be lost unseen). An ordered consumer per stream
// receives them in a Consume callback. A latency runs from just before
// js.Publish to the callback. One warm-up message per stream, published and
// received before the timed part, makes sure every consumer is attached.
// Elapsed runs from the first send to the last arrival.
func runNatsLatency(ctx context.Context, p Params) (Result, error) {
	n, err := startNats(p.Dir, p.Durable)
	if err != nil {
		return Result{}, err
	}
	defer n.stop()
	if err := n.createStreams(ctx, p.Partitions); err != nil {
		return Result{}, err
	}
	subjects := natsSubjects(p.Partitions)
	r := newNatsReceiver(p.Records, len(subjects))
	c, err := n.consume(ctx, p.Partitions, r.handle)
	if err != nil {
		return Result{}, err
	}
	defer c.stop()

	for _, subj := range subjects {
		if _, err := n.js.Publish(ctx, subj, seqValue(warmupSeq, p.Size)); err != nil {
			return Result{}, fmt.Errorf("nats warm-up publish to %s: %w", subj, err)
		}
	}
	if err := c.wait(ctx, r.ready, r.warmed.Load, len(subjects)); err != nil {
		return Result{}, fmt.Errorf("nats warm-up: %w", err)
	}

	first := r.clock.now()
	sched := newSendSchedule(p.Rate)
	for i := range p.Records {
		if err := sched.wait(ctx, i); err != nil {
			return Result{}, err
		}
		subj := subjects[i%len(subjects)]
		v := seqValue(uint64(i), p.Size)
		r.clock.sent(i)
		if _, err := n.js.Publish(ctx, subj, v); err != nil {
			return Result{}, fmt.Errorf("nats publish %d to %s: %w", i, subj, err)
		}
	}
	if err := c.wait(ctx, r.done, r.got.Load, p.Records); err != nil {
		return Result{}, err
	}
	if err := r.err(); err != nil {
		return Result{}, err
	}
	return Result{
		Records:   p.Records,
		Elapsed:   time.Duration(r.last.Load()) - first,
		Latencies: r.lats,
	}, nil
}

// natsReceiver is the consumer side of a latency run: it matches each
// arrival to its send by the sequence number in the value.
type natsReceiver struct {
	clock  *latencyClock
	lats   []time.Duration // written by handle; read after done is closed
	seen   []atomic.Bool
	warmed atomic.Int64 // warm-up messages received
	got    atomic.Int64 // timed messages received
	last   atomic.Int64 // clock offset of the latest arrival
	bad    natsErrs
	ready  chan struct{} // closed when every stream's warm-up arrived
	done   chan struct{} // closed when every timed message arrived
	once   [2]sync.Once
	warmN  int64
}

// newNatsReceiver returns a receiver of records timed messages and one
// warm-up message on each of streams streams.
func newNatsReceiver(records, streams int) *natsReceiver {
	return &natsReceiver{
		clock: newLatencyClock(records),
		lats:  make([]time.Duration, records),
		seen:  make([]atomic.Bool, records),
		ready: make(chan struct{}),
		done:  make(chan struct{}),
		warmN: int64(streams),
	}
}

// handle is the Consume callback; it may run on several goroutines at once.
func (r *natsReceiver) handle(m jetstream.Msg) {
	at := r.clock.now()
	seq, ok := valueSeq(m.Data())
	switch {
	case ok && seq == warmupSeq:
		if r.warmed.Add(1) == r.warmN {
			r.once[0].Do(func() { close(r.ready) })
		}
	case !ok || seq >= uint64(len(r.lats)) || r.seen[seq].Swap(true):
		r.bad.add(fmt.Errorf("message on %s: unexpected or repeated sequence %d", m.Subject(), seq))
	default:
		r.lats[seq] = r.clock.since(int(seq), at)
		for {
			l := r.last.Load()
			if int64(at) <= l || r.last.CompareAndSwap(l, int64(at)) {
				break
			}
		}
		if r.got.Add(1) == int64(len(r.lats)) {
			r.once[1].Do(func() { close(r.done) })
		}
	}
}

// err reports unexpected messages.
func (r *natsReceiver) err() error { return r.bad.err("deliveries") }
