package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// runNatsAsyncProduce publishes p.Records messages of p.Size bytes with
// PublishAsync, round-robin over p.Partitions streams, and waits for every
// ack (PublishAsyncComplete). nats.go's default limit of 4000 pending acks
// applies. The server fsyncs each message if p.Durable (sync always), else
// on its default 2-minute interval. Server start and stream creation are
// untimed.
func runNatsAsyncProduce(ctx context.Context, p Params) (Result, error) {
	n, err := startNats(p.Dir, p.Durable)
	if err != nil {
		return Result{}, err
	}
	defer n.stop()
	if err := n.createStreams(ctx, p.Partitions); err != nil {
		return Result{}, err
	}
	// One value for all: nats.go copies it into its write buffer and
	// never writes to it.
	value := make([]byte, p.Size)
	subjects := natsSubjects(p.Partitions)

	start := time.Now()
	err = n.publishAll(ctx, subjects, p.Records, func(int) []byte { return value })
	elapsed := time.Since(start)
	if err != nil {
		return Result{}, err
	}
	return Result{Records: p.Records, Elapsed: elapsed}, nil
}

// runNatsSyncProduce has p.Goroutines goroutines call js.Publish, which
// waits for the server's ack, one message at a time until p.Records are in,
// over one connection (as goroutines of one process would share it).
// Goroutine g publishes to stream g mod p.Partitions.
func runNatsSyncProduce(ctx context.Context, p Params) (Result, error) {
	n, err := startNats(p.Dir, p.Durable)
	if err != nil {
		return Result{}, err
	}
	defer n.stop()
	if err := n.createStreams(ctx, p.Partitions); err != nil {
		return Result{}, err
	}
	var (
		errs     natsErrs
		next     atomic.Int64
		wg       sync.WaitGroup
		value    = make([]byte, p.Size)
		subjects = natsSubjects(p.Partitions)
	)
	start := time.Now()
	for g := range max(p.Goroutines, 1) {
		subj := subjects[g%len(subjects)]
		wg.Go(func() {
			for next.Add(1) <= int64(p.Records) {
				if _, err := n.js.Publish(ctx, subj, value); err != nil {
					errs.add(fmt.Errorf("publish to %s: %w", subj, err))
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errs.err("publishes"); err != nil {
		return Result{}, err
	}
	return Result{Records: p.Records, Elapsed: elapsed}, nil
}
