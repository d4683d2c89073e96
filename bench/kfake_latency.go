package main

import (
	"context"
	"errors"
	"fmt"
	"time"

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

	clock := newLatencyClock(p.Records)
	lats := make([]time.Duration, p.Records)
	ready := make(chan struct{})
	type recvd struct {
		n    int
		last time.Duration
		err  error
	}
	done := make(chan recvd, 1)
	go func() {
		r := recvd{}
		r.n, r.last, r.err = kfakeReceive(runCtx, cons, clock, lats, ready)
		if r.err != nil {
			cancel() // stop the producer too
		}
		done <- r
	}()

	var prodErr error
	if prodErr = warmProducer(runCtx, prod, p.Size); prodErr == nil {
		select {
		case <-ready:
		case <-runCtx.Done():
			prodErr = fmt.Errorf("kfake consumer never saw the warm-up record: %w", runCtx.Err())
		}
	}
	first := clock.now()
	if prodErr == nil {
		prodErr = kfakeSendPaced(runCtx, prod, p, clock)
	}
	if prodErr != nil {
		cancel()
	}
	r := <-done
	if err := errors.Join(prodErr, r.err); err != nil {
		return Result{Records: r.n}, err
	}
	return Result{Records: r.n, Elapsed: r.last - first, Latencies: lats}, nil
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

// kfakeReceive polls cons until every record in lats has arrived, filling
// lats by the sequence number in each value, and closes ready when the
// warm-up record arrives. It returns the records received and the clock
// offset of the last arrival.
func kfakeReceive(ctx context.Context, cons *kgo.Client, clock *latencyClock, lats []time.Duration, ready chan<- struct{}) (int, time.Duration, error) {
	var (
		n      int
		last   time.Duration
		warmed bool
		seen   = make([]bool, len(lats))
	)
	for n < len(lats) {
		fs := cons.PollFetches(ctx)
		at := clock.now()
		if err := fetchErr(fs); err != nil {
			return n, last, fmt.Errorf("kfake poll after %d of %d records: %w", n, len(lats), err)
		}
		var bad error
		fs.EachRecord(func(r *kgo.Record) {
			seq, ok := valueSeq(r.Value)
			switch {
			case ok && seq == warmupSeq && !warmed:
				warmed = true
				close(ready)
			case !ok || seq >= uint64(len(lats)) || seen[seq]:
				bad = errors.Join(bad, fmt.Errorf("kfake record at partition %d offset %d: unexpected sequence %d", r.Partition, r.Offset, seq))
			default:
				seen[seq] = true
				lats[seq] = clock.since(int(seq), at)
				n++
				last = at
			}
		})
		if bad != nil {
			return n, last, bad
		}
	}
	return n, last, nil
}
