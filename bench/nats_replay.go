package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// runNatsReplay publishes p.Records messages of p.Size bytes over
// p.Partitions streams and shuts the server down (untimed), drops the store's
// files from the page cache if p.Cold (untimed), then times restarting the
// server on the same store directory (JetStream recovers the streams before
// the server is ready), connecting, and reading every message once with an
// ordered consumer per stream. Extra["reopen_s"] is the restart-and-connect
// part of Elapsed alone.
func runNatsReplay(ctx context.Context, p Params) (Result, error) {
	if err := natsFill(ctx, p); err != nil {
		return Result{}, err
	}
	if p.Cold {
		if err := dropCache(natsStoreDir(p.Dir)); err != nil {
			return Result{}, err
		}
	}

	start := time.Now()
	n, err := startNats(p.Dir, false)
	if err != nil {
		return Result{}, fmt.Errorf("restart nats for replay: %w", err)
	}
	defer n.stop()
	reopened := time.Since(start)

	var (
		got      atomic.Int64
		badSize  atomic.Int64
		done     = make(chan struct{})
		doneOnce sync.Once
	)
	c, err := n.consume(ctx, p.Partitions, func(m jetstream.Msg) {
		if len(m.Data()) != p.Size {
			badSize.Add(1)
		}
		if got.Add(1) == int64(p.Records) {
			doneOnce.Do(func() { close(done) })
		}
	})
	if err != nil {
		return Result{}, err
	}
	err = c.wait(ctx, done, got.Load, p.Records)
	elapsed := time.Since(start)
	c.stop()
	if err != nil {
		return Result{}, err
	}
	if b := badSize.Load(); b > 0 {
		return Result{}, fmt.Errorf("nats replay: %d of %d messages not %d bytes long", b, p.Records, p.Size)
	}
	// The ordered consumers keep going after the last message; more than
	// Records would mean a redelivery, which an ordered consumer must not do.
	if g := got.Load(); g != int64(p.Records) {
		return Result{}, fmt.Errorf("nats replay read %d messages, want %d", g, p.Records)
	}
	return Result{
		Records: p.Records,
		Elapsed: elapsed,
		Extra:   map[string]float64{"reopen_s": reopened.Seconds()},
	}, nil
}

// natsFill starts a server under p.Dir with the default sync interval,
// creates p.Partitions streams, async-publishes p.Records messages of p.Size
// bytes round-robin over them, and shuts the server down, which flushes
// every stream to its files.
func natsFill(ctx context.Context, p Params) error {
	n, err := startNatsStreams(ctx, p.Dir, false, p.Partitions)
	if err != nil {
		return err
	}
	defer n.stop()
	value := make([]byte, p.Size)
	if err := n.publishAll(ctx, natsSubjects(p.Partitions), p.Records, func(int) []byte { return value }); err != nil {
		return fmt.Errorf("fill nats streams for replay: %w", err)
	}
	return nil
}
