package eventlog_test

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/eventlog/eventlog"
)

// partStats returns the PartitionStats of topic/part in s, failing if absent.
func partStats(t testing.TB, s eventlog.Stats, topic string, part int) eventlog.PartitionStats {
	t.Helper()
	for _, ps := range s.Partitions {
		if ps.Topic == topic && ps.Partition == part {
			return ps
		}
	}
	t.Fatalf("Stats().Partitions has no %s/%d: %+v", topic, part, s.Partitions)
	return eventlog.PartitionStats{}
}

// produceValues produces n records of value to partition 0 of topic,
// concurrently so that some share a batch.
func produceValues(t testing.TB, l *eventlog.Log, topic string, n int, value []byte) {
	t.Helper()
	pr := newProducer(t, l, nil)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			if _, err := pr.Produce(t.Context(), eventlog.Record{Topic: topic, Value: value}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Produce: %v", err)
	}
}

func TestStatsCountsAppendsAndFsyncs(t *testing.T) {
	const n = 200
	value := bytes.Repeat([]byte("x"), 100)
	for _, tc := range []struct {
		policy eventlog.SyncPolicy
		fsyncs bool
	}{
		{eventlog.SyncAlways, true},
		{eventlog.SyncNever, false},
	} {
		t.Run(tc.policy.String(), func(t *testing.T) {
			l := openDir(t, t.TempDir(), &eventlog.Options{Sync: tc.policy})
			createTopic(t, l, "t", eventlog.TopicConfig{})
			produceValues(t, l, "t", n, value)

			s := l.Stats()
			ps := partStats(t, s, "t", 0)
			if ps.AppendedRecords != n || ps.AppendedBytes != n*100 {
				t.Errorf("AppendedRecords, AppendedBytes = %d, %d; want %d, %d", ps.AppendedRecords, ps.AppendedBytes, n, n*100)
			}
			if ps.AppendBatches < 1 || ps.AppendBatches > n {
				t.Errorf("AppendBatches = %d; want 1..%d", ps.AppendBatches, n)
			}
			if ps.MaxBatchRecords < 1 || ps.MaxBatchRecords > n || ps.RecordsPerBatch() < 1 {
				t.Errorf("MaxBatchRecords, RecordsPerBatch() = %d, %v; want 1..%d, >= 1", ps.MaxBatchRecords, ps.RecordsPerBatch(), n)
			}
			if tc.fsyncs && (ps.Fsyncs < 1 || ps.Fsyncs > ps.AppendBatches || ps.MaxFsyncTime > ps.FsyncTime) {
				t.Errorf("Fsyncs, FsyncTime, MaxFsyncTime = %d, %v, %v; want 1..AppendBatches=%d, max <= total",
					ps.Fsyncs, ps.FsyncTime, ps.MaxFsyncTime, ps.AppendBatches)
			}
			if !tc.fsyncs && (ps.Fsyncs != 0 || ps.FsyncTime != 0) {
				t.Errorf("Fsyncs, FsyncTime = %d, %v; want 0, 0", ps.Fsyncs, ps.FsyncTime)
			}
			if ps.FirstOffset != 0 || ps.NextOffset != n {
				t.Errorf("FirstOffset, NextOffset = %d, %d; want 0, %d", ps.FirstOffset, ps.NextOffset, n)
			}
			if ps.Segments != 1 || ps.SegmentBytes <= n*100 {
				t.Errorf("Segments, SegmentBytes = %d, %d; want 1, > %d", ps.Segments, ps.SegmentBytes, n*100)
			}
			if s.Total != ps.IOStats {
				t.Errorf("Total = %+v; want the only partition's %+v", s.Total, ps.IOStats)
			}
			if s.Memory.MaxResidentBytes != 128<<20 || s.Memory.ResidentBytes <= 0 {
				t.Errorf("Memory = %+v; want MaxResidentBytes 128 MiB and some bytes resident", s.Memory)
			}
		})
	}
}

func TestStatsCountsReads(t *testing.T) {
	kinds(t, func(t *testing.T, open func(t *testing.T) *eventlog.Log) {
		l := open(t)
		produceN(t, l, "t", 50)
		if got := partStats(t, l.Stats(), "t", 0); got.ReadRecords != 0 || got.ReadBatches != 0 {
			t.Fatalf("before Read: ReadRecords, ReadBatches = %d, %d; want 0, 0", got.ReadRecords, got.ReadBatches)
		}
		readAll(t, partition(t, l, "t", 0), 10)
		got := partStats(t, l.Stats(), "t", 0)
		if got.ReadRecords != 40 || got.ReadBatches < 1 || got.ReadBatches > 40 {
			t.Errorf("after Read from 10 of 50: ReadRecords, ReadBatches = %d, %d; want 40, 1..40", got.ReadRecords, got.ReadBatches)
		}
	})
}

func TestStatsInMemory(t *testing.T) {
	l := openMem(t)
	produceN(t, l, "t", 10)
	s := l.Stats()
	if s.Memory != (eventlog.MemoryStats{}) {
		t.Errorf("InMemory: Memory = %+v; want zero", s.Memory)
	}
	ps := partStats(t, s, "t", 0)
	if ps.AppendedRecords != 10 || ps.Fsyncs != 0 || ps.Segments != 1 || ps.SegmentBytes <= 0 {
		t.Errorf("InMemory: AppendedRecords, Fsyncs, Segments, SegmentBytes = %d, %d, %d, %d; want 10, 0, 1, > 0",
			ps.AppendedRecords, ps.Fsyncs, ps.Segments, ps.SegmentBytes)
	}
}

func TestStatsGroupLagMatchesLag(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "orders", eventlog.TopicConfig{Partitions: 2})
	produceTo(t, l, "orders", 10, 0, 1)
	g := group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"orders"}})
	c := join(t, g)
	recs := pollN(t, c, 5)
	if err := c.Commit(t.Context(), recs[:5]...); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	group(t, l, "idle", &eventlog.GroupOptions{Topics: []string{"orders"}})

	s := l.Stats()
	if len(s.Groups) != 2 || s.Groups[0].Name != "g" || s.Groups[1].Name != "idle" {
		t.Fatalf("Stats().Groups = %+v; want g and idle", s.Groups)
	}
	want, err := g.Lag()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Groups[0].Lag, want) {
		t.Errorf("Stats().Groups[0].Lag = %+v; want Lag() = %+v", s.Groups[0].Lag, want)
	}
	var total int64
	for _, pl := range want {
		total += pl.Lag
	}
	if s.Groups[0].TotalLag != total || total != 15 {
		t.Errorf("TotalLag = %d; want %d (sum of Lag), 15", s.Groups[0].TotalLag, total)
	}
	if s.Groups[1].TotalLag != 20 {
		t.Errorf("idle group TotalLag = %d; want 20", s.Groups[1].TotalLag)
	}
	if ps := partStats(t, s, "__consumer_offsets", 0); ps.AppendedRecords < 1 {
		t.Errorf("__consumer_offsets AppendedRecords = %d; want the commit counted", ps.AppendedRecords)
	}
}

// A Log whose partitions are all released under MaxResidentBytes reports
// their segments without loading any of them again.
func TestStatsDoesNotReloadReleasedPartitions(t *testing.T) {
	l := openDir(t, t.TempDir(), &eventlog.Options{MaxResidentBytes: 1})
	createTopic(t, l, "t", eventlog.TopicConfig{Partitions: 4})
	produceTo(t, l, "t", 20, 0, 1, 2, 3)
	before := l.Stats()
	after := l.Stats()
	if after.Memory != before.Memory || after.Memory.LoadedPartitions > 1 {
		t.Errorf("Stats twice: Memory = %+v after %+v; want no change, at most the last partition used loaded", after.Memory, before.Memory)
	}
	for i := range 4 {
		if ps := partStats(t, after, "t", i); ps.Segments != 1 || ps.SegmentBytes <= 0 {
			t.Errorf("t/%d: Segments, SegmentBytes = %d, %d; want 1, > 0", i, ps.Segments, ps.SegmentBytes)
		}
	}
}

func TestStatsAfterCloseIsZero(t *testing.T) {
	l := openDir(t, t.TempDir(), nil)
	produceN(t, l, "t", 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); !reflect.DeepEqual(s, eventlog.Stats{}) {
		t.Errorf("Stats() after Close = %+v; want the zero Stats", s)
	}
}

// Stats runs while producers and readers work; -race checks the counters.
func TestStatsConcurrentWithProduceAndRead(t *testing.T) {
	l := openDir(t, t.TempDir(), &eventlog.Options{Sync: eventlog.SyncInterval})
	createTopic(t, l, "t", eventlog.TopicConfig{Partitions: 2})
	pr := newProducer(t, l, nil)
	p0 := partition(t, l, "t", 0)
	done := make(chan struct{})
	errs := make(chan error, 8)
	var producers, watchers sync.WaitGroup
	for range 4 {
		producers.Go(func() {
			for range 200 {
				if _, err := pr.Produce(t.Context(), eventlog.Record{Topic: "t", Key: []byte("k"), Value: []byte("value")}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	watchers.Go(func() { // a reader
		for {
			select {
			case <-done:
				return
			default:
			}
			for _, err := range p0.Read(t.Context(), 0) {
				if err != nil {
					errs <- err
					return
				}
			}
		}
	})
	watchers.Go(func() { // a metrics exporter
		var prev int64
		for {
			select {
			case <-done:
				return
			default:
			}
			n := l.Stats().Total.AppendedRecords
			if n < prev {
				errs <- fmt.Errorf("Total.AppendedRecords went from %d to %d", prev, n)
				return
			}
			prev = n
		}
	})
	producers.Wait()
	close(done)
	watchers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s := l.Stats(); s.Total.AppendedRecords != 800 || s.Total.AppendedBytes != 800*6 {
		t.Errorf("Total.AppendedRecords, AppendedBytes = %d, %d; want 800, %d", s.Total.AppendedRecords, s.Total.AppendedBytes, 800*6)
	}
}
