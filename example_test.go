package eventlog_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/eventlog/eventlog"
)

// Opening a log in a directory, and an in-memory one for tests.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "eventlog-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	l, err := eventlog.Open(dir, nil) // nil: defaults, fsync before every acknowledgement
	if err != nil {
		log.Fatal(err)
	}
	if _, err := l.CreateTopic("orders", eventlog.TopicConfig{Partitions: 4}); err != nil {
		log.Fatal(err)
	}
	if err := l.Close(); err != nil {
		log.Fatal(err)
	}

	// Topics survive a restart.
	l, err = eventlog.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	fmt.Println(l.Topics())

	mem, err := eventlog.Open("", &eventlog.Options{InMemory: true})
	if err != nil {
		log.Fatal(err)
	}
	defer mem.Close()
	fmt.Println(len(mem.Topics()))
	// Output:
	// [orders]
	// 0
}

// Producing records: Produce waits until the record is durable.
func ExampleProducer_Produce() {
	l, err := eventlog.Open("", &eventlog.Options{InMemory: true})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	if _, err := l.CreateTopic("orders", eventlog.TopicConfig{Partitions: 3}); err != nil {
		log.Fatal(err)
	}
	p, err := l.NewProducer(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	ctx := context.Background()
	for _, ev := range []string{"created", "paid"} {
		rec, err := p.Produce(ctx, eventlog.Record{Topic: "orders", Key: []byte("order-7"), Value: []byte(ev)})
		if err != nil {
			log.Fatal(err)
		}
		// The key chooses the partition, as Kafka's default partitioner would.
		fmt.Printf("%s: partition %d offset %d\n", ev, rec.Partition, rec.Offset)
	}
	// Output:
	// created: partition 1 offset 0
	// paid: partition 1 offset 1
}

// Producing without waiting, then waiting for all at once.
func ExampleProducer_ProduceAsync() {
	l, err := eventlog.Open("", &eventlog.Options{InMemory: true})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	if _, err := l.CreateTopic("clicks", eventlog.TopicConfig{}); err != nil {
		log.Fatal(err)
	}
	p, err := l.NewProducer(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	failed := make(chan error, 1000)
	for i := range 1000 {
		p.ProduceAsync(eventlog.Record{Topic: "clicks", Value: fmt.Appendf(nil, "click %d", i)},
			func(_ eventlog.Record, err error) {
				if err != nil {
					failed <- err
				}
			})
	}
	if err := p.Flush(context.Background()); err != nil {
		log.Fatal(err)
	}
	close(failed)
	for err := range failed {
		log.Fatal(err)
	}
	t, _ := l.Topic("clicks")
	part, _ := t.Partition(0)
	fmt.Println(part.NextOffset())
	// Output:
	// 1000
}

// Replaying a partition from the first offset.
func ExamplePartition_Read() {
	l, err := eventlog.Open("", &eventlog.Options{InMemory: true})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	ctx := context.Background()
	orders, err := l.CreateTopic("orders", eventlog.TopicConfig{Partitions: 1})
	if err != nil {
		log.Fatal(err)
	}
	p, err := l.NewProducer(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	for _, ev := range []string{"created", "paid", "shipped"} {
		if _, err := p.Produce(ctx, eventlog.Record{Topic: "orders", Key: []byte("order-7"), Value: []byte(ev)}); err != nil {
			log.Fatal(err)
		}
	}

	part, err := orders.Partition(0)
	if err != nil {
		log.Fatal(err)
	}
	for rec, err := range part.Read(ctx, 0) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d %s %s\n", rec.Offset, rec.Key, rec.Value)
	}
	// Output:
	// 0 order-7 created
	// 1 order-7 paid
	// 2 order-7 shipped
}

// Following a partition as records arrive, until the context ends.
func ExamplePartition_Tail() {
	l, err := eventlog.Open("", &eventlog.Options{InMemory: true})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	events, err := l.CreateTopic("events", eventlog.TopicConfig{})
	if err != nil {
		log.Fatal(err)
	}
	part, _ := events.Partition(0)

	p, err := l.NewProducer(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	produced := make(chan error, 1)
	go func() { // another goroutine appends while this one tails
		for _, v := range []string{"one", "two", "three"} {
			if _, err := p.Produce(context.Background(), eventlog.Record{Topic: "events", Value: []byte(v)}); err != nil {
				produced <- err
				return
			}
		}
		produced <- nil
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for rec, err := range part.Tail(ctx, 0) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d %s\n", rec.Offset, rec.Value)
		if rec.Offset == 2 {
			break // or run until ctx ends
		}
	}
	if err := <-produced; err != nil {
		log.Fatal(err)
	}
	// Output:
	// 0 one
	// 1 two
	// 2 three
}

// Finding where to start replaying from a point in time.
func ExamplePartition_OffsetForTime() {
	l, err := eventlog.Open("", &eventlog.Options{InMemory: true})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	t, _ := l.CreateTopic("prices", eventlog.TopicConfig{})
	p, _ := l.NewProducer(nil)
	defer p.Close()
	noon := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		at := noon.Add(time.Duration(i) * time.Hour)
		if _, err := p.Produce(context.Background(), eventlog.Record{Topic: "prices", Time: at}); err != nil {
			log.Fatal(err)
		}
	}
	part, _ := t.Partition(0)
	off, err := part.OffsetForTime(noon.Add(150 * time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(off) // the 15:00 record
	// Output:
	// 3
}

// A consumer group: members share the topic's partitions, and the group
// remembers, durably, how far it got.
func ExampleConsumerGroup() {
	l, err := eventlog.Open("", &eventlog.Options{InMemory: true})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	if _, err := l.CreateTopic("orders", eventlog.TopicConfig{Partitions: 1}); err != nil {
		log.Fatal(err)
	}
	p, err := l.NewProducer(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	for _, ev := range []string{"created", "paid", "shipped"} {
		if _, err := p.Produce(ctx, eventlog.Record{Topic: "orders", Value: []byte(ev)}); err != nil {
			log.Fatal(err)
		}
	}

	g, err := l.ConsumerGroup("billing", &eventlog.GroupOptions{Topics: []string{"orders"}})
	if err != nil {
		log.Fatal(err)
	}
	c, err := g.Join(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	recs, err := c.Poll(ctx) // blocks until there are records
	if err != nil {
		log.Fatal(err)
	}
	for _, rec := range recs {
		fmt.Printf("%d %s\n", rec.Offset, rec.Value)
	}
	// Commit after processing: a member that takes the partition later
	// (after a rebalance or a restart) starts after these records.
	if err := c.Commit(ctx, recs...); err != nil {
		log.Fatal(err)
	}
	lag, err := g.Lag()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("committed %d of %d\n", lag[0].Committed, lag[0].End)
	// Output:
	// 0 created
	// 1 paid
	// 2 shipped
	// committed 3 of 3
}
