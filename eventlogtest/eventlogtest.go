// Package eventlogtest helps tests of code that uses an eventlog.Log: it opens
// a Log that the test closes by itself, produces records and collects them,
// each in one line that fails the test on error.
//
//	func TestOrders(t *testing.T) {
//		l := eventlogtest.New(t) // in memory, closed when the test ends
//		eventlogtest.Produce(t, l, "orders",
//			eventlog.Record{Key: []byte("order-7"), Value: []byte("created")},
//			eventlog.Record{Key: []byte("order-7"), Value: []byte("paid")},
//		)
//
//		runBilling(t.Context(), l) // the code under test
//
//		got := eventlogtest.Values(eventlogtest.Records(t, l, "invoices"))
//		if want := []string{"invoice for order-7"}; !slices.Equal(got, want) {
//			t.Errorf("invoices = %q; want %q", got, want)
//		}
//	}
//
// It uses only the public API of package eventlog and the standard library,
// so a test depends on nothing more than the code it tests.
//
// # Time
//
// The Log keeps time with the time package only: retention passes,
// GroupOptions.MaxPollInterval and the other timers run on Go's timers and
// tickers. Inside a testing/synctest bubble they therefore follow the bubble's
// fake clock, and a test of hour-long retention or minute-long eviction takes
// no real time. Open the Log inside the bubble, so that its goroutines belong
// to it; the cleanup that New, NewDir and NewWith register runs inside the
// bubble too, and closes the Log before the bubble ends:
//
//	synctest.Test(t, func(t *testing.T) {
//		l := eventlogtest.NewWith(t, &eventlog.Options{InMemory: true, SegmentSize: 1024})
//		// ... create a topic with Retention: time.Hour and produce ...
//		time.Sleep(2 * time.Hour) // returns at once: the bubble's clock jumps
//		synctest.Wait()           // let the retention pass finish
//		// ... FirstOffset has moved past the expired segments ...
//	})
//
// # Concurrency and failures
//
// Every function takes the test's testing.TB and fails the test through it:
// with tb.Fatal for what a test cannot continue without (a Log that did not
// open, a record that was not produced, a topic that could not be read), and
// with tb.Error for a Close at cleanup that failed. Because tb.Fatal stops
// the goroutine that calls it, call these functions from the goroutine
// running the test (or from its Cleanup functions), never from a goroutine
// the test started. The Log they return is itself safe for concurrent use.
package eventlogtest

import (
	"context"
	"errors"
	"testing"

	"github.com/eventlog/eventlog"
)

// New returns an open in-memory Log (Options.InMemory, every other option at
// its default) that is closed when the test and its subtests have finished,
// by a function registered with tb.Cleanup. It writes no files.
//
// A test may Close the Log itself; the cleanup then does nothing. Otherwise
// an error from the cleanup's Close is reported with tb.Error. If the Log
// cannot be opened, New fails the test with tb.Fatal.
//
// Call New from the goroutine running the test. Inside a testing/synctest
// bubble, call it inside the bubble: the Log's goroutines then belong to the
// bubble, its timers follow the bubble's clock, and it is closed before the
// bubble ends.
func New(tb testing.TB) *eventlog.Log {
	tb.Helper()
	return NewWith(tb, &eventlog.Options{InMemory: true})
}

// NewDir returns an open Log, with default options, whose files are in a new
// directory from tb.TempDir. The Log is closed when the test and its
// subtests have finished, by a function registered with tb.Cleanup, before
// the directory is removed. Use it where a test needs real files (fsync,
// segment files, Options.MaxResidentBytes); New is faster otherwise.
//
// Closing, failures and concurrency are as for New.
func NewDir(tb testing.TB) *eventlog.Log {
	tb.Helper()
	return NewWith(tb, nil)
}

// NewWith returns an open Log with the given options, closed when the test
// and its subtests have finished, by a function registered with tb.Cleanup.
// With opts.InMemory the Log is in memory, as with New; otherwise its files
// are in a new directory from tb.TempDir, as with NewDir. A nil opts is the
// zero Options: files, every option at its default.
//
// NewWith does not modify opts (eventlog.Open copies it). Closing, failures
// and concurrency are as for New; invalid options fail the test with tb.Fatal.
func NewWith(tb testing.TB, opts *eventlog.Options) *eventlog.Log {
	tb.Helper()
	dir := ""
	if opts == nil || !opts.InMemory {
		// Registered before the Log's cleanup, so it runs after it:
		// Cleanup functions run last-added first.
		dir = tb.TempDir()
	}
	l, err := eventlog.Open(dir, opts)
	if err != nil {
		tb.Fatalf("eventlogtest: Open(%q): %v", dir, err)
	}
	tb.Cleanup(func() {
		if err := l.Close(); err != nil && !errors.Is(err, eventlog.ErrClosed) {
			tb.Errorf("eventlogtest: Close of the test's Log: %v", err)
		}
	})
	return l
}

// Produce appends recs to topic, one after the other, and returns them as
// acknowledged: with Topic, Partition, Offset and Time filled in. It returns
// once every record is durable under the Log's Options.Sync.
//
// If topic does not exist, Produce first creates it with one partition.
// A record whose Topic is empty is produced to topic; one naming another
// topic fails the test. Records go to the partitions a Producer with default
// ProducerOptions chooses (keyed records by murmur2 of the key, as Kafka
// does), so Record.Partition is ignored; to choose partitions, use a Producer
// with eventlog.ManualPartitioner.
//
// Any error (an invalid topic name, a record too large, a closed Log) fails
// the test with tb.Fatal, naming the record; records before it stay
// appended. Call Produce from the goroutine running the test, or from its
// Cleanup functions.
func Produce(tb testing.TB, l *eventlog.Log, topic string, recs ...eventlog.Record) []eventlog.Record {
	tb.Helper()
	if _, err := l.Topic(topic); errors.Is(err, eventlog.ErrUnknownTopic) {
		// ErrTopicExists means another goroutine created it meanwhile.
		if _, err := l.CreateTopic(topic, eventlog.TopicConfig{Partitions: 1}); err != nil && !errors.Is(err, eventlog.ErrTopicExists) {
			tb.Fatalf("eventlogtest.Produce(%q): %v", topic, err)
		}
	} else if err != nil {
		tb.Fatalf("eventlogtest.Produce(%q): %v", topic, err)
	}

	p, err := l.NewProducer(nil)
	if err != nil {
		tb.Fatalf("eventlogtest.Produce(%q): %v", topic, err)
	}
	defer p.Close() // nothing is left buffered: each Produce below has returned

	// Background, not tb.Context: the latter is canceled before Cleanup
	// functions run, and Produce returns without it (it waits only for the
	// Log's own write).
	ctx := context.Background()
	acked := make([]eventlog.Record, 0, len(recs))
	for i, r := range recs {
		switch r.Topic {
		case "":
			r.Topic = topic
		case topic:
		default:
			tb.Fatalf("eventlogtest.Produce(%q): record %d names topic %q", topic, i, r.Topic)
		}
		got, err := p.Produce(ctx, r)
		if err != nil {
			tb.Fatalf("eventlogtest.Produce(%q): record %d (key %q): %v", topic, i, r.Key, err)
		}
		acked = append(acked, got)
	}
	return acked
}

// Records returns every record the topic holds: partition by partition, in
// partition order, and within each partition from its FirstOffset up to its
// NextOffset, in offset order. It does not wait for records still being
// produced, and records removed by retention are not returned. It returns nil
// if the topic holds no records.
//
// An unknown topic, a closed Log or a failed read (corrupt data, or retention
// deleting records while Records reads them) fails the test with tb.Fatal.
// Call Records from the goroutine running the test, or from its Cleanup
// functions.
func Records(tb testing.TB, l *eventlog.Log, topic string) []eventlog.Record {
	tb.Helper()
	t, err := l.Topic(topic)
	if err != nil {
		tb.Fatalf("eventlogtest.Records(%q): %v", topic, err)
	}
	var all []eventlog.Record
	for i := range t.Partitions() {
		p, err := t.Partition(i)
		if err != nil {
			tb.Fatalf("eventlogtest.Records(%q): %v", topic, err)
		}
		// Background for the reason given in Produce: Read does not wait.
		for r, err := range p.Read(context.Background(), p.FirstOffset()) {
			if err != nil {
				tb.Fatalf("eventlogtest.Records(%q): partition %d: %v", topic, i, err)
			}
			all = append(all, r)
		}
	}
	return all
}

// Values returns the values of recs as strings, in the order of recs, for
// comparing with slices.Equal and printing in failure messages. A nil Value
// (a tombstone) becomes "". Values is a pure function and safe for
// concurrent use.
func Values(recs []eventlog.Record) []string {
	if recs == nil {
		return nil
	}
	vs := make([]string, len(recs))
	for i, r := range recs {
		vs[i] = string(r.Value)
	}
	return vs
}
