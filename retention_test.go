package eventlog_test

import (
	"errors"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/eventlog/eventlog"
)

func TestRetentionByAgeDropsWholeSegments(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := eventlog.Open("", &eventlog.Options{InMemory: true, SegmentSize: 1024})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close() // the bubble ends only if Close really stops every goroutine
		top := createTopic(t, l, "audit", eventlog.TopicConfig{Retention: time.Hour})
		produceN(t, l, "audit", 100)
		part, _ := top.Partition(0)

		time.Sleep(59 * time.Minute) // the bubble's clock: returns at once
		synctest.Wait()
		if got := part.FirstOffset(); got != 0 {
			t.Fatalf("FirstOffset before the records expire = %d, want 0", got)
		}
		time.Sleep(2 * time.Minute) // past the hour, and a retention tick
		synctest.Wait()

		first := part.FirstOffset()
		if first == 0 || first >= 100 {
			t.Fatalf("FirstOffset after the hour = %d, want old segments gone and the newest kept", first)
		}
		if got := part.NextOffset(); got != 100 {
			t.Errorf("NextOffset = %d, want 100: retention must not renumber", got)
		}
		if got := offsets(readAll(t, part, first)); !slices.Equal(got, seq(first, 100)) {
			t.Errorf("Read(FirstOffset) = %v", got)
		}
		for _, err := range part.Read(t.Context(), 0) {
			if !errors.Is(err, eventlog.ErrOffsetOutOfRange) {
				t.Errorf("Read(0) after retention = %v, want ErrOffsetOutOfRange", err)
			}
		}
		// Offsets continue after the cut.
		produceN(t, l, "audit", 1)
		if got := part.NextOffset(); got != 101 {
			t.Errorf("NextOffset after one more = %d, want 101", got)
		}
	})
}

func TestRetentionBySize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := eventlog.Open("", &eventlog.Options{InMemory: true, SegmentSize: 4096})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		top := createTopic(t, l, "t", eventlog.TopicConfig{RetentionBytes: 16 << 10})
		p := newProducer(t, l, nil)
		for range 100 { // ~100 KiB
			if _, err := p.Produce(t.Context(), eventlog.Record{Topic: "t", Value: make([]byte, 1000)}); err != nil {
				t.Fatal(err)
			}
		}
		part, _ := top.Partition(0)
		time.Sleep(time.Minute)
		synctest.Wait()
		first := part.FirstOffset()
		kept := part.NextOffset() - first
		// Each record takes a little over 1000 bytes; whole 4 KiB segments go.
		if kept*1000 > 16<<10+4096 || kept*1100 < 16<<10-4096 {
			t.Errorf("%d records of ~1 KiB kept (from %d), want RetentionBytes (16 KiB) give or take a segment", kept, first)
		}
	})
}

func TestRetentionAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	opts := &eventlog.Options{SegmentSize: 2048, RetentionCheckInterval: time.Hour}
	l := openDir(t, dir, opts)
	createTopic(t, l, "t", eventlog.TopicConfig{RetentionBytes: 4096})
	produceN(t, l, "t", 2000)
	l.Close()

	// The next Log applies retention at its first tick; force it with a short interval.
	opts.RetentionCheckInterval = time.Millisecond
	l = openDir(t, dir, opts)
	part := partition(t, l, "t", 0)
	deadline := time.Now().Add(10 * time.Second)
	for part.FirstOffset() == 0 { // the first retention pass, a millisecond after Open
		if time.Now().After(deadline) {
			t.Fatal("no retention pass within 10s of Open")
		}
		runtime.Gosched()
	}
	first := part.FirstOffset()
	l.Close()

	l = openDir(t, dir, nil)
	part = partition(t, l, "t", 0)
	if got := part.FirstOffset(); got != first {
		t.Errorf("FirstOffset after reopen = %d, want %d", got, first)
	}
	if got := offsets(readAll(t, part, first)); !slices.Equal(got, seq(first, part.NextOffset())) {
		t.Errorf("offsets after reopen do not continue from %d", first)
	}
}
