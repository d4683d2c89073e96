package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// produceErrs counts failed produces and keeps the first error.
type produceErrs struct {
	n     atomic.Int64
	once  sync.Once
	first error
}

// add records err if it is not nil.
func (e *produceErrs) add(err error) {
	if err == nil {
		return
	}
	e.n.Add(1)
	e.once.Do(func() { e.first = err })
}

// err is nil if nothing failed, else the count and the first error.
func (e *produceErrs) err() error {
	if n := e.n.Load(); n > 0 {
		return fmt.Errorf("kfake: %d produces failed, first: %w", n, e.first)
	}
	return nil
}

// runKfakeAsyncProduce hands p.Records records of p.Size bytes to kgo's
// Produce with a promise each (nil keys, so kgo's default sticky
// partitioner spreads batches over p.Partitions partitions), then Flushes.
// Client start and a warm-up record are untimed.
func runKfakeAsyncProduce(ctx context.Context, p Params) (Result, error) {
	c, err := startKfake(p)
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	cl, err := c.client()
	if err != nil {
		return Result{}, err
	}
	defer cl.Close()
	if err := warmProducer(ctx, cl, p.Size); err != nil {
		return Result{}, err
	}

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
	var errs produceErrs
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
	return elapsed, errs.err()
}

// runKfakeSyncProduce has p.Goroutines goroutines call kgo's ProduceSync,
// one record at a time, until p.Records records are in.
func runKfakeSyncProduce(ctx context.Context, p Params) (Result, error) {
	c, err := startKfake(p)
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	cl, err := c.client()
	if err != nil {
		return Result{}, err
	}
	defer cl.Close()
	if err := warmProducer(ctx, cl, p.Size); err != nil {
		return Result{}, err
	}

	var (
		errs  produceErrs
		next  atomic.Int64
		wg    sync.WaitGroup
		value = make([]byte, p.Size)
	)
	start := time.Now()
	for range max(p.Goroutines, 1) {
		wg.Go(func() {
			for next.Add(1) <= int64(p.Records) {
				err := cl.ProduceSync(ctx, &kgo.Record{Value: value}).FirstErr()
				errs.add(err)
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errs.err(); err != nil {
		return Result{}, err
	}
	return Result{Records: p.Records, Elapsed: elapsed}, nil
}
