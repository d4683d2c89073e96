package eventlog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventlog/eventlog"
)

func TestRoundTripEveryField(t *testing.T) {
	kinds(t, func(t *testing.T, open func(t *testing.T) *eventlog.Log) {
		l := open(t)
		createTopic(t, l, "orders", eventlog.TopicConfig{Partitions: 1})
		p := newProducer(t, l, nil)
		at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
		in := []eventlog.Record{
			{Key: []byte("k"), Value: []byte("v"), Time: at,
				Headers: []eventlog.Header{{Key: "a", Value: []byte("1")}, {Key: "a", Value: nil}, {Key: "", Value: []byte{}}}},
			{Key: nil, Value: nil},                                       // tombstone without key
			{Key: []byte{}, Value: []byte{}},                             // empty, not nil
			{Value: bytes.Repeat([]byte{0xff}, 70_000)},                  // bigger than one read buffer chunk
			{Key: []byte{0}, Value: []byte("x"), Time: time.Unix(0, -5)}, // before 1970
		}
		var acked []eventlog.Record
		for i, r := range in {
			r.Topic = "orders"
			got, err := p.Produce(t.Context(), r)
			if err != nil {
				t.Fatalf("Produce #%d: %v", i, err)
			}
			if got.Offset != int64(i) || got.Partition != 0 || got.Topic != "orders" || got.Time.IsZero() {
				t.Fatalf("Produce #%d = offset %d partition %d topic %q time %v", i, got.Offset, got.Partition, got.Topic, got.Time)
			}
			acked = append(acked, got)
		}
		check := func(l *eventlog.Log) {
			t.Helper()
			read := readAll(t, partition(t, l, "orders", 0), 0)
			if len(read) != len(acked) {
				t.Fatalf("read %d records, want %d", len(read), len(acked))
			}
			for i := range read {
				want := acked[i]
				got := read[i]
				if !got.Time.Equal(want.Time) {
					t.Errorf("record %d Time = %v, want %v", i, got.Time, want.Time)
				}
				got.Time, want.Time = time.Time{}, time.Time{}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("record %d:\n got %#v\nwant %#v", i, got, want)
				}
				if (got.Key == nil) != (in[i].Key == nil) || (got.Value == nil) != (in[i].Value == nil) {
					t.Errorf("record %d: nil key/value not kept apart from empty", i)
				}
			}
			if !acked[0].Time.Equal(at) {
				t.Errorf("explicit Time changed: %v, want %v", acked[0].Time, at)
			}
		}
		check(l)
		if t.Name() == "TestRoundTripEveryField/dir" {
			p.Close()
			l.Close()
			check(open(t))
		}
	})
}

func TestOffsetsContinueAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	for round := range 3 {
		l := openDir(t, dir, &eventlog.Options{SegmentSize: 4096})
		produceN(t, l, "t", 100)
		part := partition(t, l, "t", 0)
		if got, want := part.NextOffset(), int64(100*(round+1)); got != want {
			t.Fatalf("round %d: NextOffset = %d, want %d", round, got, want)
		}
		if got := offsets(readAll(t, part, 0)); !slices.Equal(got, seq(0, int64(100*(round+1)))) {
			t.Fatalf("round %d: offsets = %v", round, got)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTopicNames(t *testing.T) {
	l := openMem(t)
	for _, name := range []string{"", ".", "..", "a/b", `a\b`, "a b", "ä", "a\x00", strings.Repeat("x", 250), "../x"} {
		if _, err := l.CreateTopic(name, eventlog.TopicConfig{}); !errors.Is(err, eventlog.ErrInvalidName) {
			t.Errorf("CreateTopic(%q) = %v, want ErrInvalidName", name, err)
		}
	}
	for _, name := range []string{"a", "A-b_c.d", "...", strings.Repeat("x", 249), "0"} {
		if _, err := l.CreateTopic(name, eventlog.TopicConfig{}); err != nil {
			t.Errorf("CreateTopic(%q) = %v, want success", name, err)
		}
	}
	if _, err := l.CreateTopic("a", eventlog.TopicConfig{}); !errors.Is(err, eventlog.ErrTopicExists) {
		t.Errorf("second CreateTopic(a) = %v, want ErrTopicExists", err)
	}
	for _, cfg := range []eventlog.TopicConfig{{Partitions: -1}, {Retention: -1}, {RetentionBytes: -1}, {Partitions: 1 << 30}} {
		if _, err := l.CreateTopic("bad", cfg); !errors.Is(err, eventlog.ErrInvalidConfig) {
			t.Errorf("CreateTopic(bad, %+v) = %v, want ErrInvalidConfig", cfg, err)
		}
	}
	if got := len(l.Topics()); got != 5 {
		t.Errorf("Topics() = %v, want the 5 valid ones", l.Topics())
	}
	if _, err := l.Topic("nope"); !errors.Is(err, eventlog.ErrUnknownTopic) {
		t.Errorf("Topic(nope) = %v, want ErrUnknownTopic", err)
	}
}

func TestTopicsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	l := openDir(t, dir, nil)
	createTopic(t, l, "a", eventlog.TopicConfig{Partitions: 3, Retention: time.Hour, RetentionBytes: 1 << 30})
	createTopic(t, l, "b", eventlog.TopicConfig{})
	createTopic(t, l, "gone", eventlog.TopicConfig{})
	if err := l.DeleteTopic("gone"); err != nil {
		t.Fatal(err)
	}
	l.Close()

	// A topic directory without topic.json is a creation a crash cut short.
	if err := os.MkdirAll(filepath.Join(dir, "topics", "half", "0"), 0o755); err != nil {
		t.Fatal(err)
	}
	l = openDir(t, dir, nil)
	if got := l.Topics(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Topics after reopen = %v, want [a b]", got)
	}
	a, _ := l.Topic("a")
	if got, want := a.Config(), (eventlog.TopicConfig{Partitions: 3, Retention: time.Hour, RetentionBytes: 1 << 30}); got != want {
		t.Errorf("Config = %+v, want %+v", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "topics", "half")); !os.IsNotExist(err) {
		t.Errorf("unfinished topic directory still there: %v", err)
	}
}

func TestRecordTooLargeChangesNothing(t *testing.T) {
	l, err := eventlog.Open("", &eventlog.Options{InMemory: true, MaxRecordSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	createTopic(t, l, "t", eventlog.TopicConfig{})
	p := newProducer(t, l, nil)
	if _, err := p.Produce(t.Context(), eventlog.Record{Topic: "t", Value: make([]byte, 1000)}); !errors.Is(err, eventlog.ErrRecordTooLarge) {
		t.Fatalf("Produce(1000-byte value) = %v, want ErrRecordTooLarge", err)
	}
	var async error
	p.ProduceAsync(eventlog.Record{Topic: "t", Headers: []eventlog.Header{{Key: "h", Value: make([]byte, 2000)}}},
		func(_ eventlog.Record, err error) { async = err })
	if !errors.Is(async, eventlog.ErrRecordTooLarge) {
		t.Fatalf("ProduceAsync(big header) called back with %v, want ErrRecordTooLarge", async)
	}
	if got := partition(t, l, "t", 0).NextOffset(); got != 0 {
		t.Fatalf("NextOffset = %d after refused records, want 0", got)
	}
	if _, err := p.Produce(t.Context(), eventlog.Record{Topic: "t", Value: make([]byte, 900)}); err != nil {
		t.Fatalf("Produce(900 bytes) = %v", err)
	}
}

func TestUseAfterClose(t *testing.T) {
	kinds(t, func(t *testing.T, open func(t *testing.T) *eventlog.Log) {
		l := open(t)
		top := createTopic(t, l, "t", eventlog.TopicConfig{})
		part, _ := top.Partition(0)
		p := newProducer(t, l, nil)
		if _, err := p.Produce(t.Context(), eventlog.Record{Topic: "t"}); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
		if err := l.Close(); !errors.Is(err, eventlog.ErrClosed) {
			t.Errorf("second Close = %v, want ErrClosed", err)
		}
		if _, err := l.CreateTopic("u", eventlog.TopicConfig{}); !errors.Is(err, eventlog.ErrClosed) {
			t.Errorf("CreateTopic after Close = %v", err)
		}
		if _, err := l.Topic("t"); !errors.Is(err, eventlog.ErrClosed) {
			t.Errorf("Topic after Close = %v", err)
		}
		if err := l.DeleteTopic("t"); !errors.Is(err, eventlog.ErrClosed) {
			t.Errorf("DeleteTopic after Close = %v", err)
		}
		if _, err := l.NewProducer(nil); !errors.Is(err, eventlog.ErrClosed) {
			t.Errorf("NewProducer after Close = %v", err)
		}
		if _, err := p.Produce(t.Context(), eventlog.Record{Topic: "t"}); !errors.Is(err, eventlog.ErrClosed) {
			t.Errorf("Produce after Close = %v", err)
		}
		for _, err := range part.Read(t.Context(), 0) {
			if !errors.Is(err, eventlog.ErrClosed) {
				t.Errorf("Read after Close yielded %v, want ErrClosed", err)
			}
			break
		}
		for _, err := range part.Tail(t.Context(), 0) {
			if !errors.Is(err, eventlog.ErrClosed) {
				t.Errorf("Tail after Close yielded %v, want ErrClosed", err)
			}
			break
		}
		if _, err := part.OffsetForTime(time.Now()); !errors.Is(err, eventlog.ErrClosed) {
			t.Errorf("OffsetForTime after Close = %v", err)
		}
		if err := p.Close(); err != nil {
			t.Errorf("Producer.Close after Log.Close = %v", err)
		}
		if err := p.Close(); !errors.Is(err, eventlog.ErrClosed) {
			t.Errorf("second Producer.Close = %v", err)
		}
	})
}

func TestOpenOptionsAreChecked(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		opts *eventlog.Options
	}{
		{"", nil},
		{t.TempDir(), &eventlog.Options{InMemory: true}},
		{t.TempDir(), &eventlog.Options{Sync: 7}},
		{t.TempDir(), &eventlog.Options{SegmentSize: -1}},
		{t.TempDir(), &eventlog.Options{MaxRecordSize: 1 << 30}},
	} {
		if l, err := eventlog.Open(tc.dir, tc.opts); !errors.Is(err, eventlog.ErrInvalidConfig) {
			if l != nil {
				l.Close()
			}
			t.Errorf("Open(%q, %+v) = %v, want ErrInvalidConfig", tc.dir, tc.opts, err)
		}
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	dir := t.TempDir()
	l := openDir(t, dir, nil)
	if l2, err := eventlog.Open(dir, nil); !errors.Is(err, eventlog.ErrLocked) {
		if l2 != nil {
			l2.Close()
		}
		t.Fatalf("second Open in the same process = %v, want ErrLocked", err)
	}
	// Another process.
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperOpenDir$")
	cmd.Env = append(os.Environ(), "EVENTLOG_HELPER_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "directory in use") {
		t.Fatalf("Open from another process: err %v, output %q; want a failure naming the lock", err, out)
	}
	l.Close()
	l = openDir(t, dir, nil) // released by Close
	l.Close()
}

// TestHelperOpenDir runs in a child process: it opens the directory named
// by EVENTLOG_HELPER_DIR and fails with the error.
func TestHelperOpenDir(t *testing.T) {
	dir := os.Getenv("EVENTLOG_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	l, err := eventlog.Open(dir, nil)
	if err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	l.Close()
}

func TestTailWakesOnAppend(t *testing.T) {
	kinds(t, func(t *testing.T, open func(t *testing.T) *eventlog.Log) {
		l := open(t)
		createTopic(t, l, "t", eventlog.TopicConfig{})
		part := partition(t, l, "t", 0)
		p := newProducer(t, l, nil)

		ctx, cancel := context.WithCancel(t.Context())
		got := make(chan eventlog.Record)
		tailErr := make(chan error, 1)
		go func() {
			for rec, err := range part.Tail(ctx, 0) {
				if err != nil {
					tailErr <- err
					return
				}
				got <- rec
			}
		}()
		for i := range 5 {
			if _, err := p.Produce(t.Context(), eventlog.Record{Topic: "t", Value: []byte(itoa(i))}); err != nil {
				t.Fatal(err)
			}
			rec := <-got // blocks until Tail wakes: no sleeping, no polling
			if rec.Offset != int64(i) || string(rec.Value) != itoa(i) {
				t.Fatalf("Tail yielded offset %d %q, want %d", rec.Offset, rec.Value, i)
			}
		}
		cancel()
		if err := <-tailErr; !errors.Is(err, context.Canceled) {
			t.Fatalf("Tail ended with %v, want context.Canceled", err)
		}
	})
}

func TestTailEndsWithClose(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{})
	part := partition(t, l, "t", 0)
	started := make(chan struct{})
	done := make(chan error)
	go func() {
		close(started)
		for _, err := range part.Tail(context.Background(), 0) {
			done <- err
			return
		}
	}()
	<-started
	l.Close()
	if err := <-done; !errors.Is(err, eventlog.ErrClosed) {
		t.Fatalf("Tail ended with %v, want ErrClosed", err)
	}
}

func TestReadOutOfRange(t *testing.T) {
	l := openMem(t)
	produceN(t, l, "t", 3)
	part := partition(t, l, "t", 0)
	for _, from := range []int64{-1, 4, 1 << 40} {
		for _, err := range part.Read(t.Context(), from) {
			if !errors.Is(err, eventlog.ErrOffsetOutOfRange) {
				t.Errorf("Read(%d) yielded %v, want ErrOffsetOutOfRange", from, err)
			}
		}
	}
	if got := readAll(t, part, 3); len(got) != 0 {
		t.Errorf("Read(NextOffset) yielded %d records, want none", len(got))
	}
	if _, err := partition(t, l, "t", 0).OffsetForTime(time.Now()); err != nil {
		t.Fatal(err)
	}
	top, _ := l.Topic("t")
	if _, err := top.Partition(1); !errors.Is(err, eventlog.ErrUnknownPartition) {
		t.Errorf("Partition(1) of 1 = %v, want ErrUnknownPartition", err)
	}
}

func TestReadStopsEarlyAndReentrant(t *testing.T) {
	l := openMem(t)
	produceN(t, l, "t", 10)
	part := partition(t, l, "t", 0)
	p := newProducer(t, l, nil)
	n := 0
	for rec, err := range part.Read(t.Context(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		// The loop body may call back into the partition: no lock is held.
		if _, err := p.Produce(t.Context(), eventlog.Record{Topic: "t"}); err != nil {
			t.Fatal(err)
		}
		if n++; rec.Offset == 4 {
			break
		}
	}
	if n != 5 || part.NextOffset() != 15 {
		t.Fatalf("read %d, NextOffset %d; want 5 and 15", n, part.NextOffset())
	}
}

func TestOffsetForTime(t *testing.T) {
	kinds(t, func(t *testing.T, open func(t *testing.T) *eventlog.Log) {
		l := open(t)
		createTopic(t, l, "t", eventlog.TopicConfig{})
		p := newProducer(t, l, nil)
		base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		// Times rise by a second per record, except record 50 which is late.
		times := make([]time.Time, 100)
		for i := range times {
			times[i] = base.Add(time.Duration(i) * time.Second)
		}
		times[50] = base.Add(-time.Hour)
		for _, ts := range times {
			if _, err := p.Produce(t.Context(), eventlog.Record{Topic: "t", Time: ts, Value: make([]byte, 100)}); err != nil {
				t.Fatal(err)
			}
		}
		part := partition(t, l, "t", 0)
		for _, q := range []time.Time{base.Add(-2 * time.Hour), base, base.Add(10 * time.Second), base.Add(49500 * time.Millisecond),
			base.Add(50 * time.Second), base.Add(99 * time.Second), base.Add(time.Hour)} {
			want := int64(len(times))
			for i, ts := range times {
				if !ts.Before(q) {
					want = int64(i)
					break
				}
			}
			got, err := part.OffsetForTime(q)
			if err != nil || got != want {
				t.Errorf("OffsetForTime(%v) = %d, %v; want %d", q.Sub(base), got, err, want)
			}
		}
	})
}

func TestDeleteTopic(t *testing.T) {
	kinds(t, func(t *testing.T, open func(t *testing.T) *eventlog.Log) {
		l := open(t)
		produceN(t, l, "t", 10)
		part := partition(t, l, "t", 0)
		p := newProducer(t, l, nil)
		if err := l.DeleteTopic("t"); err != nil {
			t.Fatal(err)
		}
		if err := l.DeleteTopic("t"); !errors.Is(err, eventlog.ErrUnknownTopic) {
			t.Errorf("second DeleteTopic = %v", err)
		}
		if _, err := p.Produce(t.Context(), eventlog.Record{Topic: "t"}); !errors.Is(err, eventlog.ErrUnknownTopic) {
			t.Errorf("Produce to deleted topic = %v", err)
		}
		for _, err := range part.Read(t.Context(), 0) {
			if !errors.Is(err, eventlog.ErrUnknownTopic) {
				t.Errorf("Read of deleted topic = %v, want ErrUnknownTopic", err)
			}
			break
		}
		// The name can be used again, from offset 0.
		produceN(t, l, "t", 1)
		if got := partition(t, l, "t", 0).NextOffset(); got != 1 {
			t.Errorf("recreated topic NextOffset = %d, want 1", got)
		}
	})
}

func TestConcurrentReadersWhileWriting(t *testing.T) {
	for _, kind := range []string{"mem", "dir"} {
		t.Run(kind, func(t *testing.T) { concurrentReadersWhileWriting(t, kind) })
	}
}

// concurrentReadersWhileWriting has 8 goroutines tail one partition while it
// is written and crosses many segment files: tidwall/wal's Read is not safe
// for concurrent use, so this is the race the segment package must absorb.
func concurrentReadersWhileWriting(t *testing.T, kind string) {
	{
		var l *eventlog.Log
		if kind == "mem" {
			l = openDir(t, "", &eventlog.Options{InMemory: true, SegmentSize: 8 << 10})
		} else {
			l = openDir(t, t.TempDir(), &eventlog.Options{SegmentSize: 8 << 10, Sync: eventlog.SyncNever})
		}
		createTopic(t, l, "t", eventlog.TopicConfig{})
		part := partition(t, l, "t", 0)
		const total = 3000
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				want := int64(0)
				for rec, err := range part.Tail(ctx, 0) {
					if err != nil {
						errs <- err
						return
					}
					if rec.Offset != want || string(rec.Value) != "v"+itoa(int(want)) {
						errs <- fmt.Errorf("reader got offset %d %q, want %d", rec.Offset, rec.Value, want)
						return
					}
					if want++; want == total {
						return
					}
				}
			})
		}
		p := newProducer(t, l, nil)
		for i := range total {
			p.ProduceAsync(eventlog.Record{Topic: "t", Value: []byte("v" + itoa(i))}, nil)
		}
		if err := p.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}
