package main

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// runKfakeAsyncProduce hands p.Records records of p.Size bytes to kgo's
// Produce with a promise each (nil keys, so kgo's default sticky
// partitioner spreads batches over p.Partitions partitions), then Flushes.
// Client start and a warm-up record are untimed.
func runKfakeAsyncProduce(ctx context.Context, p Params) (Result, error) {
	cl, stop, err := startKfakeProducer(ctx, p)
	if err != nil {
		return Result{}, err
	}
	defer stop()

	elapsed, err := kfakeProduceAll(ctx, cl, p)
	if err != nil {
		return Result{}, err
	}
	return Result{Records: p.Records, Elapsed: elapsed}, nil
}

// kfakeProduceAll async-produces p.Records records of p.Size bytes (one
// value shared by all, as kgo never writes to it), flushes, and returns the
// time taken and any produce error.
func kfakeProduceAll(ctx context.Context, cl *kgo.Client, p Params) (time.Duration, error) {
	var errs failures
	promise := func(_ *kgo.Record, err error) { errs.add(err) }
	value := make([]byte, p.Size)
	start := time.Now()
	for range p.Records {
		cl.Produce(ctx, &kgo.Record{Value: value}, promise)
	}
	if err := cl.Flush(ctx); err != nil {
		return 0, fmt.Errorf("kfake flush: %w", err)
	}
	elapsed := time.Since(start)
	return elapsed, errs.err("kfake produces")
}

// runKfakeSyncProduce has p.Goroutines goroutines call kgo's ProduceSync,
// one record at a time, until p.Records records are in.
func runKfakeSyncProduce(ctx context.Context, p Params) (Result, error) {
	cl, stop, err := startKfakeProducer(ctx, p)
	if err != nil {
		return Result{}, err
	}
	defer stop()

	value := make([]byte, p.Size)
	elapsed, err := runCallers(p.Goroutines, p.Records, "kfake produce callers", func(int) func() error {
		return func() error { return cl.ProduceSync(ctx, &kgo.Record{Value: value}).FirstErr() }
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Records: p.Records, Elapsed: elapsed}, nil
}

// startKfakeProducer starts a cluster for p and a producer client with
// kgo's defaults, warmed up with one untimed record. The caller must call
// stop, which closes both.
func startKfakeProducer(ctx context.Context, p Params) (_ *kgo.Client, stop func(), _ error) {
	c, err := startKfake(p)
	if err != nil {
		return nil, nil, err
	}
	cl, err := c.client()
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	stop = func() {
		cl.Close()
		c.Close()
	}
	if err := warmProducer(ctx, cl, p.Size); err != nil {
		stop()
		return nil, nil, err
	}
	return cl, stop, nil
}
