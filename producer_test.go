package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/eventlog/eventlog"
	"github.com/eventlog/eventlog/internal/murmur2"
)

func TestProduceAsyncCallsBackInOrderOnce(t *testing.T) {
	kinds(t, func(t *testing.T, open func(t *testing.T) *eventlog.Log) {
		l := open(t)
		createTopic(t, l, "t", eventlog.TopicConfig{Partitions: 4})
		p := newProducer(t, l, nil)
		const n = 5000
		var mu sync.Mutex
		perPart := map[int][]int64{}
		calls := 0
		for i := range n {
			key := []byte(fmt.Sprint("k", i%37))
			p.ProduceAsync(eventlog.Record{Topic: "t", Key: key, Value: []byte(itoa(i))}, func(r eventlog.Record, err error) {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if err != nil {
					t.Errorf("callback error: %v", err)
					return
				}
				perPart[r.Partition] = append(perPart[r.Partition], r.Offset)
			})
		}
		if err := p.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if calls != n {
			t.Fatalf("%d callbacks for %d records", calls, n)
		}
		total := 0
		for part, offs := range perPart {
			if !slices.Equal(offs, seq(0, int64(len(offs)))) {
				t.Errorf("partition %d callbacks not in offset order: %v...", part, offs[:min(10, len(offs))])
			}
			total += len(offs)
			if got := partition(t, l, "t", part).NextOffset(); got != int64(len(offs)) {
				t.Errorf("partition %d NextOffset = %d, want %d", part, got, len(offs))
			}
		}
		if total != n {
			t.Errorf("%d records acknowledged, want %d", total, n)
		}
	})
}

func TestKeysLandWhereKafkaPutsThem(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{Partitions: 7})
	p := newProducer(t, l, nil)
	for i := range 200 {
		key := []byte(fmt.Sprintf("user-%d", i))
		rec, err := p.Produce(t.Context(), eventlog.Record{Topic: "t", Key: key})
		if err != nil {
			t.Fatal(err)
		}
		if want := murmur2.Partition(key, 7); rec.Partition != want {
			t.Fatalf("key %q went to partition %d, Kafka's default partitioner picks %d", key, rec.Partition, want)
		}
	}
}

func TestUnkeyedRecordsUseStickyBatches(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{Partitions: 3})
	p := newProducer(t, l, nil)
	var parts []int
	for range 600 {
		rec, err := p.Produce(t.Context(), eventlog.Record{Topic: "t", Value: make([]byte, 100)})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, rec.Partition)
	}
	switches := 0
	for i := 1; i < len(parts); i++ {
		if parts[i] != parts[i-1] {
			switches++
		}
	}
	used := map[int]bool{}
	for _, q := range parts {
		used[q] = true
	}
	// 600 records of ~110 bytes are ~66 KiB: about four 16 KiB batches.
	if switches < 2 || switches > 8 || len(used) != 3 {
		t.Errorf("unkeyed records switched partition %d times over %d partitions; want a few sticky batches over all 3", switches, len(used))
	}
}

func TestManualAndCustomPartitioners(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{Partitions: 3})
	manual := newProducer(t, l, &eventlog.ProducerOptions{Partitioner: eventlog.ManualPartitioner()})
	rec, err := manual.Produce(t.Context(), eventlog.Record{Topic: "t", Partition: 2, Key: []byte("k")})
	if err != nil || rec.Partition != 2 {
		t.Fatalf("ManualPartitioner Produce(partition 2) = %d, %v", rec.Partition, err)
	}
	if _, err := manual.Produce(t.Context(), eventlog.Record{Topic: "t", Partition: 3}); !errors.Is(err, eventlog.ErrUnknownPartition) {
		t.Fatalf("ManualPartitioner Produce(partition 3 of 3) = %v, want ErrUnknownPartition", err)
	}
	last := newProducer(t, l, &eventlog.ProducerOptions{Partitioner: eventlog.PartitionerFunc(
		func(r eventlog.Record, n int) int { return n - 1 })})
	if rec, err := last.Produce(t.Context(), eventlog.Record{Topic: "t"}); err != nil || rec.Partition != 2 {
		t.Fatalf("custom partitioner Produce = %d, %v; want partition 2", rec.Partition, err)
	}
	if got := partition(t, l, "t", 2).NextOffset(); got != 2 {
		t.Errorf("partition 2 NextOffset = %d, want 2 (the refused record changed nothing)", got)
	}
}

func TestProduceUnknownTopic(t *testing.T) {
	l := openMem(t)
	p := newProducer(t, l, nil)
	if _, err := p.Produce(t.Context(), eventlog.Record{Topic: "nope"}); !errors.Is(err, eventlog.ErrUnknownTopic) {
		t.Fatalf("Produce(unknown topic) = %v", err)
	}
}

func TestProducerBlocksWhenBufferFull(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{})
	// One byte of buffer: each record holds all of it until answered.
	p := newProducer(t, l, &eventlog.ProducerOptions{MaxBufferedBytes: 1})
	hold := make(chan struct{})
	p.ProduceAsync(eventlog.Record{Topic: "t"}, func(eventlog.Record, error) { <-hold }) // its callback keeps the buffer
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.Produce(ctx, eventlog.Record{Topic: "t"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Produce with a full buffer and a canceled ctx = %v, want context.Canceled", err)
	}
	close(hold)
	if _, err := p.Produce(t.Context(), eventlog.Record{Topic: "t"}); err != nil {
		t.Fatalf("Produce once the buffer drained = %v", err)
	}
	if got := partition(t, l, "t", 0).NextOffset(); got != 2 {
		t.Fatalf("NextOffset = %d, want 2: the canceled record must not be written", got)
	}
}

func TestProducerCloseFlushesThenRefuses(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{})
	p, err := l.NewProducer(nil)
	if err != nil {
		t.Fatal(err)
	}
	var acked sync.WaitGroup
	for range 100 {
		acked.Add(1)
		p.ProduceAsync(eventlog.Record{Topic: "t"}, func(_ eventlog.Record, err error) {
			if err != nil {
				t.Errorf("callback: %v", err)
			}
			acked.Done()
		})
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	acked.Wait()
	if got := partition(t, l, "t", 0).NextOffset(); got != 100 {
		t.Fatalf("NextOffset after Close = %d, want 100", got)
	}
	var after error
	p.ProduceAsync(eventlog.Record{Topic: "t"}, func(_ eventlog.Record, err error) { after = err })
	if !errors.Is(after, eventlog.ErrClosed) {
		t.Fatalf("ProduceAsync after Close called back with %v, want ErrClosed", after)
	}
	if err := p.Flush(t.Context()); !errors.Is(err, eventlog.ErrClosed) {
		t.Fatalf("Flush after Close = %v", err)
	}
}

func TestManyProducersOnePartition(t *testing.T) {
	dir := t.TempDir()
	l := openDir(t, dir, nil)
	createTopic(t, l, "t", eventlog.TopicConfig{})
	p := newProducer(t, l, nil)
	var wg sync.WaitGroup
	seen := make([][]int64, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				rec, err := p.Produce(context.Background(), eventlog.Record{Topic: "t", Value: []byte(fmt.Sprint(g, "-", i))})
				if err != nil {
					t.Error(err)
					return
				}
				seen[g] = append(seen[g], rec.Offset)
			}
		})
	}
	wg.Wait()
	var all []int64
	for _, s := range seen {
		if !slices.IsSorted(s) {
			t.Errorf("one goroutine's records out of order: %v", s)
		}
		all = append(all, s...)
	}
	slices.Sort(all)
	if !slices.Equal(all, seq(0, 800)) {
		t.Fatalf("offsets of 16x50 concurrent records are not 0..799 once each")
	}
}
