package main

import (
	"context"
	"fmt"

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
	n, err := startNatsStreams(ctx, p.Dir, p.Durable, p.Partitions)
	if err != nil {
		return Result{}, err
	}
	defer n.stop()
	subjects := natsSubjects(p.Partitions)
	a := newArrivals(p.Records, len(subjects))
	var bad failures
	// The callback may run on several goroutines at once, one per stream.
	c, err := n.consume(ctx, p.Partitions, func(m jetstream.Msg) {
		at := a.clock.now()
		if err := a.arrive(m.Data(), at); err != nil {
			bad.add(fmt.Errorf("message on %s: %w", m.Subject(), err))
		}
	})
	if err != nil {
		return Result{}, err
	}
	defer c.stop()

	for _, subj := range subjects {
		if _, err := n.js.Publish(ctx, subj, seqValue(warmupSeq, p.Size)); err != nil {
			return Result{}, fmt.Errorf("nats warm-up publish to %s: %w", subj, err)
		}
	}
	if err := c.wait(ctx, a.ready, a.warmedUp, len(subjects)); err != nil {
		return Result{}, fmt.Errorf("nats warm-up: %w", err)
	}

	first := a.clock.now()
	sched := newSendSchedule(p.Rate)
	for i := range p.Records {
		if err := sched.wait(ctx, i); err != nil {
			return Result{}, err
		}
		subj := subjects[i%len(subjects)]
		v := seqValue(uint64(i), p.Size)
		a.clock.sent(i)
		if _, err := n.js.Publish(ctx, subj, v); err != nil {
			return Result{}, fmt.Errorf("nats publish %d to %s: %w", i, subj, err)
		}
	}
	if err := c.wait(ctx, a.done, a.arrived, p.Records); err != nil {
		return Result{}, err
	}
	if err := bad.err("nats deliveries"); err != nil {
		return Result{}, err
	}
	return a.result(first), nil
}
