package eventlogtest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/eventlog/eventlog"
	"github.com/eventlog/eventlog/eventlogtest"
)

// A test of code that reads one topic and writes another. An Example has no
// *testing.T, so inTest stands in for go test here; in a test file the
// function given to it is the body of the test:
//
//	func TestBillInvoicesPaidOrders(t *testing.T) {
//		l := eventlogtest.New(t)
//		eventlogtest.Produce(t, l, "orders", ...)
//		...
//	}
func Example() {
	inTest(func(t testing.TB) {
		l := eventlogtest.New(t) // in memory; closed when the test ends
		eventlogtest.Produce(t, l, "orders",
			eventlog.Record{Key: []byte("order-7"), Value: []byte("created")},
			eventlog.Record{Key: []byte("order-7"), Value: []byte("paid")},
			eventlog.Record{Key: []byte("order-8"), Value: []byte("created")},
		)

		if err := bill(t.Context(), l); err != nil { // the code under test
			t.Fatal(err)
		}

		got := eventlogtest.Values(eventlogtest.Records(t, l, "invoices"))
		fmt.Printf("%q\n", got)
	})
	// Output:
	// ["invoice for order-7"]
}

// Produce creates a missing topic with one partition and returns the records
// as acknowledged, with their partitions and offsets.
func ExampleProduce() {
	inTest(func(t testing.TB) {
		l := eventlogtest.New(t)
		acked := eventlogtest.Produce(t, l, "orders",
			eventlog.Record{Value: []byte("created")},
			eventlog.Record{Value: []byte("paid")},
		)
		for _, r := range acked {
			fmt.Println(r.Topic, r.Partition, r.Offset, string(r.Value))
		}
	})
	// Output:
	// orders 0 0 created
	// orders 0 1 paid
}

// Records collects a topic partition by partition; within a partition the
// records are in offset order, so the records of one key keep their order.
func ExampleRecords() {
	inTest(func(t testing.TB) {
		l := eventlogtest.New(t)
		if _, err := l.CreateTopic("orders", eventlog.TopicConfig{Partitions: 2}); err != nil {
			t.Fatal(err)
		}
		eventlogtest.Produce(t, l, "orders", // keyed: Kafka's murmur2 partitioning
			eventlog.Record{Key: []byte("order-7"), Value: []byte("created")},
			eventlog.Record{Key: []byte("order-4"), Value: []byte("created")},
			eventlog.Record{Key: []byte("order-7"), Value: []byte("paid")},
			eventlog.Record{Key: []byte("order-4"), Value: []byte("cancelled")},
		)
		for _, r := range eventlogtest.Records(t, l, "orders") {
			fmt.Println(r.Partition, r.Offset, string(r.Key), string(r.Value))
		}
	})
	// Output:
	// 0 0 order-4 created
	// 0 1 order-4 cancelled
	// 1 0 order-7 created
	// 1 1 order-7 paid
}

// NewDir gives the same Log on real files, in a directory removed when the
// test ends. A test may Close the Log itself, to check what Close does; the
// cleanup then has nothing left to do.
func ExampleNewDir() {
	inTest(func(t testing.TB) {
		l := eventlogtest.NewDir(t)
		eventlogtest.Produce(t, l, "audit", eventlog.Record{Value: []byte("login")})
		if err := l.Close(); err != nil { // fsyncs and releases the directory
			t.Fatal(err)
		}
		_, err := l.Topic("audit")
		fmt.Println(err)
	})
	// Output:
	// eventlog: closed
}

// bill is the code under test in Example: it produces an invoice for every
// paid order.
func bill(ctx context.Context, l *eventlog.Log) error {
	orders, err := l.Topic("orders")
	if err != nil {
		return err
	}
	if _, err := l.CreateTopic("invoices", eventlog.TopicConfig{}); err != nil && !errors.Is(err, eventlog.ErrTopicExists) {
		return err
	}
	p, err := l.NewProducer(nil)
	if err != nil {
		return err
	}
	defer p.Close()
	for i := range orders.Partitions() {
		part, err := orders.Partition(i)
		if err != nil {
			return err
		}
		for r, err := range part.Read(ctx, part.FirstOffset()) {
			if err != nil {
				return err
			}
			if string(r.Value) != "paid" {
				continue
			}
			inv := eventlog.Record{Topic: "invoices", Key: r.Key, Value: fmt.Appendf(nil, "invoice for %s", r.Key)}
			if _, err := p.Produce(ctx, inv); err != nil {
				return err
			}
		}
	}
	return nil
}
