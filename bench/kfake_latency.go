package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// runKfakeLatency produces p.Records records of p.Size bytes at p.Rate per
// second, each with ProduceSync (ProducerLinger 0: a producer that cares
// about latency does not linger), while a consumer client polls in another
// goroutine. A latency is from just before ProduceSync to the return of the
// PollFetches that delivered the record. One warm-up record, produced and
// consumed before the timed part, makes sure both clients are connected.
func runKfakeLatency(ctx context.Context, p Params) (Result, error) {
	c, err := startKfake(p)
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	cons, err := c.client(
		kgo.ConsumeTopics(kfakeTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		return Result{}, err
	}
	defer cons.Close()
	prod, err := c.client(kgo.ProducerLinger(0))
	if err != nil {
		return Result{}, err
	}
	defer prod.Close()

	a := newArrivals(p.Records, 1)
	return runLatency(runCtx, cancel, "kfake", a,
		func(ctx context.Context) error { return kfakeReceive(ctx, cons, a) },
		func(ctx context.Context) error { return warmProducer(ctx, prod, p.Size) },
		func(ctx context.Context) error { return kfakeSendPaced(ctx, prod, p, a.clock) })
}

// kfakeSendPaced sends p.Records records with ProduceSync, one at a time, on
// the schedule p.Rate sets, marking each send's start on clock.
func kfakeSendPaced(ctx context.Context, prod *kgo.Client, p Params, clock *latencyClock) error {
	sched := newSendSchedule(p.Rate)
	for i := range p.Records {
		if err := sched.wait(ctx, i); err != nil {
			return err
		}
		rec := &kgo.Record{Value: seqValue(uint64(i), p.Size)}
		clock.sent(i)
		if err := prod.ProduceSync(ctx, rec).FirstErr(); err != nil {
			return fmt.Errorf("kfake produce %d: %w", i, err)
		}
	}
	return nil
}

// kfakeReceive polls cons until every timed record has arrived, recording
// each on a at the return of the PollFetches that delivered it.
func kfakeReceive(ctx context.Context, cons *kgo.Client, a *arrivals) error {
	for !a.complete() {
		fs := cons.PollFetches(ctx)
		at := a.clock.now()
		if err := fetchErr(fs); err != nil {
			return fmt.Errorf("kfake poll after %d of %d records: %w", a.arrived(), len(a.lats), err)
		}
		var bad error
		fs.EachRecord(func(r *kgo.Record) {
			if err := a.arrive(r.Value, at); err != nil {
				bad = errors.Join(bad, fmt.Errorf("kfake record at partition %d offset %d: %w", r.Partition, r.Offset, err))
			}
		})
		if bad != nil {
			return bad
		}
	}
	return nil
}
