package eventlogtest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/eventlog/eventlog"
	"github.com/eventlog/eventlog/eventlogtest"
)

// TestMain checks that no test leaves a goroutine running: every Log the
// helpers open must be closed, and its goroutines stopped, by its cleanup.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var opens = []struct {
	name string
	open func(testing.TB) *eventlog.Log
}{
	{"New", eventlogtest.New},
	{"NewDir", eventlogtest.NewDir},
	{"NewWith(InMemory)", func(tb testing.TB) *eventlog.Log {
		return eventlogtest.NewWith(tb, &eventlog.Options{InMemory: true, SegmentSize: 4096})
	}},
	{"NewWith(nil)", func(tb testing.TB) *eventlog.Log { return eventlogtest.NewWith(tb, nil) }},
}

func TestNewClosesAtCleanup(t *testing.T) {
	for _, o := range opens {
		t.Run(o.name, func(t *testing.T) {
			var l *eventlog.Log
			t.Run("inner", func(t *testing.T) {
				l = o.open(t)
				eventlogtest.Produce(t, l, "orders", eventlog.Record{Value: []byte("created")})
				if got := eventlogtest.Values(eventlogtest.Records(t, l, "orders")); !slices.Equal(got, []string{"created"}) {
					t.Errorf("Records(orders) = %q; want [created]", got)
				}
			})
			if _, err := l.Topic("orders"); !errors.Is(err, eventlog.ErrClosed) {
				t.Errorf("Topic(orders) after the subtest ended = %v; want ErrClosed", err)
			}
			if err := l.Close(); !errors.Is(err, eventlog.ErrClosed) {
				t.Errorf("Close after the subtest ended = %v; want ErrClosed (closed by its cleanup)", err)
			}
		})
	}
}

func TestNewGivesSeparateLogs(t *testing.T) {
	for _, o := range opens {
		t.Run(o.name, func(t *testing.T) {
			a, b := o.open(t), o.open(t) // two NewDir logs must not share a directory (ErrLocked)
			eventlogtest.Produce(t, a, "orders", eventlog.Record{Value: []byte("a")})
			if got := b.Topics(); len(got) != 0 {
				t.Errorf("second Log's Topics() = %q; want none", got)
			}
		})
	}
}

func TestNewWithDoesNotModifyOptions(t *testing.T) {
	opts := &eventlog.Options{InMemory: true}
	want := *opts
	eventlogtest.NewWith(t, opts)
	if !reflect.DeepEqual(*opts, want) {
		t.Errorf("NewWith changed its options to %+v; want %+v", *opts, want)
	}
}

func TestCloseByTheTestIsNotAFailure(t *testing.T) {
	for _, o := range opens {
		t.Run(o.name, func(t *testing.T) {
			ft := runFake(func(tb testing.TB) {
				l := o.open(tb)
				if err := l.Close(); err != nil {
					tb.Fatal(err)
				}
			})
			if ft.Failed() {
				t.Errorf("a test that closed its Log failed: %q", ft.messages())
			}
		})
	}
}

func TestProduceRecordsRoundTrip(t *testing.T) {
	for _, o := range opens {
		t.Run(o.name, func(t *testing.T) {
			l := o.open(t)
			in := []eventlog.Record{
				{Key: []byte("order-7"), Value: []byte("created"), Headers: []eventlog.Header{{Key: "source", Value: []byte("web")}}},
				{Topic: "orders", Key: []byte("order-7"), Value: []byte("paid"), Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
				{Key: []byte("order-7")}, // a tombstone
				{Value: []byte{}},
			}
			acked := eventlogtest.Produce(t, l, "orders", in...)
			if len(acked) != len(in) {
				t.Fatalf("Produce returned %d records; want %d", len(acked), len(in))
			}
			for i, r := range acked {
				if r.Topic != "orders" || r.Partition != 0 || r.Offset != int64(i) {
					t.Errorf("acked[%d] at %s/%d/%d; want orders/0/%d", i, r.Topic, r.Partition, r.Offset, i)
				}
				if r.Time.IsZero() {
					t.Errorf("acked[%d].Time is zero; want the append time", i)
				}
			}
			if !acked[1].Time.Equal(in[1].Time) {
				t.Errorf("acked[1].Time = %v; want the given %v", acked[1].Time, in[1].Time)
			}

			top, err := l.Topic("orders")
			if err != nil {
				t.Fatal(err)
			}
			if got := top.Partitions(); got != 1 {
				t.Errorf("Partitions() of the topic Produce created = %d; want 1", got)
			}

			got := eventlogtest.Records(t, l, "orders")
			if len(got) != len(acked) {
				t.Fatalf("Records returned %d records; want %d", len(got), len(acked))
			}
			for i := range got {
				if !sameRecord(got[i], acked[i]) {
					t.Errorf("Records()[%d] = %+v; want %+v", i, got[i], acked[i])
				}
			}
			if got[2].Value != nil || got[3].Value == nil {
				t.Errorf("Values read back: tombstone %v, empty %v; want nil and non-nil", got[2].Value, got[3].Value)
			}

			// A second call appends to the existing topic.
			more := eventlogtest.Produce(t, l, "orders", eventlog.Record{Value: []byte("shipped")})
			if more[0].Offset != 4 {
				t.Errorf("second Produce at offset %d; want 4", more[0].Offset)
			}
			if got := eventlogtest.Produce(t, l, "orders"); len(got) != 0 {
				t.Errorf("Produce of no records = %v; want none", got)
			}
		})
	}
}

func sameRecord(a, b eventlog.Record) bool {
	return a.Topic == b.Topic && a.Partition == b.Partition && a.Offset == b.Offset &&
		a.Time.Equal(b.Time) && bytes.Equal(a.Key, b.Key) && bytes.Equal(a.Value, b.Value) &&
		slices.EqualFunc(a.Headers, b.Headers, func(x, y eventlog.Header) bool {
			return x.Key == y.Key && bytes.Equal(x.Value, y.Value)
		})
}

func TestRecordsPartitionByPartition(t *testing.T) {
	l := eventlogtest.New(t)
	if _, err := l.CreateTopic("orders", eventlog.TopicConfig{Partitions: 3}); err != nil {
		t.Fatal(err)
	}
	if got := eventlogtest.Records(t, l, "orders"); got != nil {
		t.Errorf("Records of an empty topic = %v; want nil", got)
	}

	p, err := l.NewProducer(&eventlog.ProducerOptions{Partitioner: eventlog.ManualPartitioner()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i, part := range []int{2, 0, 1, 0, 2, 2, 0} {
		r := eventlog.Record{Topic: "orders", Partition: part, Value: fmt.Appendf(nil, "%d", i)}
		if _, err := p.Produce(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}

	var got []string
	for _, r := range eventlogtest.Records(t, l, "orders") {
		got = append(got, fmt.Sprintf("%d/%d=%s", r.Partition, r.Offset, r.Value))
	}
	want := []string{"0/0=1", "0/1=3", "0/2=6", "1/0=2", "2/0=0", "2/1=4", "2/2=5"}
	if !slices.Equal(got, want) {
		t.Errorf("Records(orders) = %q; want %q", got, want)
	}

	// Produce to an existing topic keeps its partitions.
	eventlogtest.Produce(t, l, "orders", eventlog.Record{Key: []byte("k"), Value: []byte("x")})
	top, _ := l.Topic("orders")
	if top.Partitions() != 3 {
		t.Errorf("Partitions() after Produce = %d; want 3", top.Partitions())
	}
}

func TestValues(t *testing.T) {
	if got := eventlogtest.Values(nil); got != nil {
		t.Errorf("Values(nil) = %q; want nil", got)
	}
	recs := []eventlog.Record{{Value: []byte("a")}, {}, {Value: []byte("c")}}
	if got, want := eventlogtest.Values(recs), []string{"a", "", "c"}; !slices.Equal(got, want) {
		t.Errorf("Values = %q; want %q", got, want)
	}
}

// TestHelpersFailTheTest checks that each helper fails the test, with
// FailNow, instead of returning a half result.
func TestHelpersFailTheTest(t *testing.T) {
	for _, tc := range []struct {
		name string
		body func(tb testing.TB)
	}{
		{"NewWith invalid options", func(tb testing.TB) {
			eventlogtest.NewWith(tb, &eventlog.Options{InMemory: true, SegmentSize: -1})
		}},
		{"Produce to an invalid topic name", func(tb testing.TB) {
			eventlogtest.Produce(tb, eventlogtest.New(tb), "no spaces", eventlog.Record{})
		}},
		{"Produce a record naming another topic", func(tb testing.TB) {
			eventlogtest.Produce(tb, eventlogtest.New(tb), "orders", eventlog.Record{Topic: "invoices"})
		}},
		{"Produce a record too large", func(tb testing.TB) {
			eventlogtest.Produce(tb, eventlogtest.New(tb), "orders", eventlog.Record{Value: make([]byte, 2<<20)})
		}},
		{"Produce to a closed Log", func(tb testing.TB) {
			l := eventlogtest.New(tb)
			l.Close()
			eventlogtest.Produce(tb, l, "orders", eventlog.Record{})
		}},
		{"Records of an unknown topic", func(tb testing.TB) {
			eventlogtest.Records(tb, eventlogtest.New(tb), "orders")
		}},
		{"Records of a closed Log", func(tb testing.TB) {
			l := eventlogtest.New(tb)
			eventlogtest.Produce(tb, l, "orders", eventlog.Record{})
			l.Close()
			eventlogtest.Records(tb, l, "orders")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			returned := false
			ft := runFake(func(tb testing.TB) {
				tc.body(tb)
				returned = true
			})
			if !ft.Failed() || returned {
				t.Errorf("failed = %v, returned = %v; want the test failed and stopped", ft.Failed(), returned)
			}
			if msgs := ft.messages(); len(msgs) != 1 {
				t.Errorf("messages = %q; want exactly one", msgs)
			} else {
				t.Log(msgs[0])
			}
		})
	}
}

// TestSynctest proves that a Log from eventlogtest works in a
// testing/synctest bubble: retention and MaxPollInterval follow the bubble's
// clock, so two hours pass in no real time, and the Log's cleanup stops all
// its goroutines before the bubble ends (or synctest.Test would fail).
func TestSynctest(t *testing.T) {
	start := time.Now()
	synctest.Test(t, func(t *testing.T) {
		l := eventlogtest.NewWith(t, &eventlog.Options{InMemory: true, SegmentSize: 1024})
		top, err := l.CreateTopic("audit", eventlog.TopicConfig{Retention: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		var recs []eventlog.Record
		for i := range 100 {
			recs = append(recs, eventlog.Record{Value: fmt.Appendf(nil, "event %03d", i)})
		}
		eventlogtest.Produce(t, l, "audit", recs...)

		g, err := l.ConsumerGroup("auditors", &eventlog.GroupOptions{
			Topics:          []string{"audit"},
			MaxPollInterval: time.Minute,
			MaxPollRecords:  10,
		})
		if err != nil {
			t.Fatal(err)
		}
		c, err := g.Join(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() }) // nil once evicted; runs before the Log's cleanup
		if got, err := c.Poll(t.Context()); err != nil || len(got) == 0 {
			t.Fatalf("first Poll = %d records, %v; want some", len(got), err)
		}

		time.Sleep(2 * time.Hour) // the bubble's clock: returns at once
		synctest.Wait()           // let the retention pass and the eviction finish

		part, err := top.Partition(0)
		if err != nil {
			t.Fatal(err)
		}
		if first := part.FirstOffset(); first == 0 || first >= 100 {
			t.Errorf("FirstOffset two hours later = %d; want old segments gone, the newest kept", first)
		}
		if got := part.NextOffset(); got != 100 {
			t.Errorf("NextOffset = %d; want 100", got)
		}
		if got := eventlogtest.Records(t, l, "audit"); len(got) == 0 || got[0].Offset != part.FirstOffset() {
			t.Errorf("Records after retention start at %v; want FirstOffset %d", got, part.FirstOffset())
		}

		// Bounded, so that a member wrongly kept would fail here rather
		// than block the bubble.
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		if _, err := c.Poll(ctx); !errors.Is(err, eventlog.ErrEvicted) {
			t.Errorf("Poll of a member silent for 2h = %v; want ErrEvicted", err)
		}
	})
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("synctest test took %v of real time; want no real waiting", d)
	}
}
