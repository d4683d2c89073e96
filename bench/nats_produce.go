package main

import (
	"context"
	"fmt"
	"time"
)

// runNatsAsyncProduce publishes p.Records messages of p.Size bytes with
// PublishAsync, round-robin over p.Partitions streams, and waits for every
// ack (PublishAsyncComplete). nats.go's default limit of 4000 pending acks
// applies. The server fsyncs each message if p.Durable (sync always), else
// on its default 2-minute interval. Server start and stream creation are
// untimed.
func runNatsAsyncProduce(ctx context.Context, p Params) (Result, error) {
	n, err := startNatsStreams(ctx, p.Dir, p.Durable, p.Partitions)
	if err != nil {
		return Result{}, err
	}
	defer n.stop()
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
	n, err := startNatsStreams(ctx, p.Dir, p.Durable, p.Partitions)
	if err != nil {
		return Result{}, err
	}
	defer n.stop()
	value := make([]byte, p.Size)
	subjects := natsSubjects(p.Partitions)
	elapsed, err := runCallers(p.Goroutines, p.Records, "nats publish callers", func(g int) func() error {
		subj := subjects[g%len(subjects)]
		return func() error {
			if _, err := n.js.Publish(ctx, subj, value); err != nil {
				return fmt.Errorf("publish to %s: %w", subj, err)
			}
			return nil
		}
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Records: p.Records, Elapsed: elapsed}, nil
}
