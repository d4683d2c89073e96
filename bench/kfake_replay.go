package main

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// runKfakeReplay produces p.Records records untimed, closes the producer,
// then times a fresh consumer client (ConsumeTopics, reset to the start)
// polling until it has every record. The timed part includes the
// consumer's connect and metadata, as a reopened log's includes its open.
func runKfakeReplay(ctx context.Context, p Params) (Result, error) {
	c, err := startKfake(p)
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	if err := kfakeFill(ctx, c, p); err != nil {
		return Result{}, err
	}

	start := time.Now()
	cl, err := c.client(
		kgo.ConsumeTopics(kfakeTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		return Result{}, err
	}
	defer cl.Close()
	n, err := pollCount(ctx, cl, p.Records)
	elapsed := time.Since(start)
	if err != nil {
		return Result{Records: n}, err
	}
	return Result{Records: n, Elapsed: elapsed}, nil
}

// kfakeFill async-produces p.Records records with a producer of its own
// and closes it.
func kfakeFill(ctx context.Context, c *kfakeCluster, p Params) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	if _, err := kfakeProduceAll(ctx, cl, p); err != nil {
		return fmt.Errorf("kfake fill: %w", err)
	}
	return nil
}

// pollCount polls cl until it has seen want records, and returns how many
// it saw and the first fetch error.
func pollCount(ctx context.Context, cl *kgo.Client, want int) (int, error) {
	n := 0
	for n < want {
		fs := cl.PollFetches(ctx)
		if err := fetchErr(fs); err != nil {
			return n, fmt.Errorf("kfake poll after %d of %d records: %w", n, want, err)
		}
		n += fs.NumRecords()
	}
	return n, nil
}

// fetchErr returns the first error in fs, or nil.
func fetchErr(fs kgo.Fetches) error {
	for _, fe := range fs.Errors() {
		return fmt.Errorf("topic %s partition %d: %w", fe.Topic, fe.Partition, fe.Err)
	}
	return nil
}
