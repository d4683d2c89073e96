// Command workers runs a producer and a consumer group of workers sharing a
// topic's partitions, until Ctrl-C (or -duration). Start it twice on the same
// -dir, one after the other, to see the group resume at its committed
// offsets instead of starting over.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/eventlog/eventlog"
)

func main() {
	dir := flag.String("dir", "", "data directory (default: a temporary one, removed at exit)")
	workers := flag.Int("workers", 3, "members of the consumer group")
	duration := flag.Duration("duration", 0, "stop after this long (0: run until Ctrl-C)")
	flag.Parse()

	if *dir == "" {
		tmp, err := os.MkdirTemp("", "eventlog-workers")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}

	// Ctrl-C (or SIGTERM) cancels ctx; everything below stops cleanly on it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	if err := run(ctx, *dir, *workers); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, dir string, workers int) error {
	l, err := eventlog.Open(dir, nil)
	if err != nil {
		return err
	}
	defer l.Close()

	if _, err := l.CreateTopic("jobs", eventlog.TopicConfig{Partitions: 6}); err != nil && !errors.Is(err, eventlog.ErrTopicExists) {
		return err
	}
	g, err := l.ConsumerGroup("workers", &eventlog.GroupOptions{Topics: []string{"jobs"}})
	if err != nil {
		return err
	}

	// The producer: one job every 10ms, until ctx ends.
	produced := make(chan error, 1)
	go func() { produced <- produce(ctx, l) }()

	// The workers: Run commits each record after the handler returned nil,
	// so a crash redelivers at most the records being handled.
	var handled atomic.Int64
	err = g.Run(ctx, workers, func(ctx context.Context, rec eventlog.Record) error {
		handled.Add(1)
		fmt.Printf("job %-8s partition %d offset %4d\n", rec.Key, rec.Partition, rec.Offset)
		return nil
	})
	if err := errors.Join(err, <-produced); err != nil {
		return err
	}
	lag, err := g.Lag()
	if err != nil {
		return err
	}
	var behind int64
	for _, pl := range lag {
		behind += pl.Lag
	}
	fmt.Printf("stopped: %d jobs handled, %d left for the next run\n", handled.Load(), behind)
	return nil
}

func produce(ctx context.Context, l *eventlog.Log) error {
	p, err := l.NewProducer(nil)
	if err != nil {
		return err
	}
	defer p.Close()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		_, err := p.Produce(ctx, eventlog.Record{Topic: "jobs", Key: fmt.Appendf(nil, "job-%d", i%50), Value: fmt.Appendf(nil, "payload %d", i)})
		if err != nil && ctx.Err() == nil {
			return err
		}
	}
}
