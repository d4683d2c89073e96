// Command quickstart opens an event log in a temporary directory, creates a
// topic, produces a few records, replays them, and prints what it read.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/eventlog/eventlog"
)

func main() {
	dir, err := os.MkdirTemp("", "eventlog-quickstart")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	if err := run(context.Background(), dir); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, dir string) error {
	// Defaults: every acknowledged record is fsynced (concurrent producers
	// share fsyncs).
	l, err := eventlog.Open(dir, nil)
	if err != nil {
		return err
	}
	defer l.Close()

	orders, err := l.CreateTopic("orders", eventlog.TopicConfig{Partitions: 4})
	if err != nil {
		return err
	}

	p, err := l.NewProducer(nil)
	if err != nil {
		return err
	}
	defer p.Close()

	events := []struct{ order, event string }{
		{"order-1", "created"}, {"order-2", "created"}, {"order-1", "paid"},
		{"order-3", "created"}, {"order-1", "shipped"}, {"order-2", "cancelled"},
	}
	for _, e := range events {
		rec, err := p.Produce(ctx, eventlog.Record{
			Topic:   "orders",
			Key:     []byte(e.order), // same key, same partition, in order
			Value:   []byte(e.event),
			Headers: []eventlog.Header{{Key: "source", Value: []byte("quickstart")}},
		})
		if err != nil {
			return err
		}
		fmt.Printf("produced %-8s %-9s -> partition %d offset %d\n", e.order, e.event, rec.Partition, rec.Offset)
	}

	fmt.Println("\nreplaying every partition from offset 0:")
	for i := range orders.Partitions() {
		part, err := orders.Partition(i)
		if err != nil {
			return err
		}
		for rec, err := range part.Read(ctx, part.FirstOffset()) {
			if err != nil {
				return err
			}
			fmt.Printf("  partition %d offset %d  %s %s  (%s)\n",
				rec.Partition, rec.Offset, rec.Key, rec.Value, rec.Time.Format("15:04:05.000"))
		}
	}
	return nil
}
