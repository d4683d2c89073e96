package eventlog_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/eventlog/eventlog"
)

var policies = []eventlog.SyncPolicy{eventlog.SyncAlways, eventlog.SyncInterval, eventlog.SyncNever}

// BenchmarkProduce measures Produce of 100-byte records to one partition
// under each sync policy, from 1 goroutine and from 64, and ProduceAsync.
// Throughput is reported as records/s.
func BenchmarkProduce(b *testing.B) {
	value := bytes.Repeat([]byte("x"), 100)
	for _, policy := range policies {
		for _, g := range []int{1, 64} {
			b.Run(fmt.Sprintf("%v/goroutines=%d", policy, g), func(b *testing.B) {
				l, p := benchLog(b, &eventlog.Options{Sync: policy}, 1)
				b.SetBytes(int64(len(value)))
				b.ReportAllocs()
				if g == 1 {
					for b.Loop() {
						if _, err := p.Produce(context.Background(), eventlog.Record{Topic: "t", Value: value}); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					b.SetParallelism((g + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if _, err := p.Produce(context.Background(), eventlog.Record{Topic: "t", Value: value}); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				reportRecords(b, l)
			})
		}
		b.Run(fmt.Sprintf("%v/async", policy), func(b *testing.B) {
			l, p := benchLog(b, &eventlog.Options{Sync: policy}, 1)
			b.SetBytes(int64(len(value)))
			b.ReportAllocs()
			var failed atomic.Int64
			cb := func(_ eventlog.Record, err error) {
				if err != nil {
					failed.Add(1)
				}
			}
			for b.Loop() {
				p.ProduceAsync(eventlog.Record{Topic: "t", Value: value}, cb)
			}
			if err := p.Flush(context.Background()); err != nil || failed.Load() != 0 {
				b.Fatalf("Flush = %v, %d failed", err, failed.Load())
			}
			reportRecords(b, l)
		})
	}
}

// BenchmarkRead measures replay of 100-byte records from a reopened log
// (page cache warm).
func BenchmarkRead(b *testing.B) {
	const n = 200_000
	dir := b.TempDir()
	l, p := benchLogDir(b, dir, &eventlog.Options{Sync: eventlog.SyncNever}, 1)
	value := bytes.Repeat([]byte("x"), 100)
	for range n {
		p.ProduceAsync(eventlog.Record{Topic: "t", Value: value}, nil)
	}
	if err := p.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	p.Close()
	l.Close()
	l, err := eventlog.Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	part := partition(b, l, "t", 0)
	b.SetBytes(n * int64(len(value)))
	b.ResetTimer()
	b.ReportAllocs()
	for b.Loop() {
		count := 0
		for _, err := range part.Read(context.Background(), 0) {
			if err != nil {
				b.Fatal(err)
			}
			count++
		}
		if count != n {
			b.Fatalf("read %d records, want %d", count, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkOpen measures Open of a log holding one partition of about
// EVENTLOG_BENCH_OPEN_MB megabytes (default 1024) in 1 KiB records.
func BenchmarkOpen(b *testing.B) {
	mb := 1024
	if s := os.Getenv("EVENTLOG_BENCH_OPEN_MB"); s != "" {
		mb, _ = strconv.Atoi(s)
	}
	dir := b.TempDir()
	l, p := benchLogDir(b, dir, &eventlog.Options{Sync: eventlog.SyncNever}, 1)
	value := bytes.Repeat([]byte("x"), 1024)
	for range mb * 1024 {
		p.ProduceAsync(eventlog.Record{Topic: "t", Value: value}, nil)
	}
	if err := p.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	p.Close()
	l.Close()
	b.ResetTimer()
	for b.Loop() {
		l, err := eventlog.Open(dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		if got := partition(b, l, "t", 0).NextOffset(); got != int64(mb*1024) {
			b.Fatalf("NextOffset = %d after reopen", got)
		}
		l.Close()
	}
	b.ReportMetric(float64(mb), "MB-log")
}

// BenchmarkIdlePartitions reports the resident memory of a fresh process
// that opens a Log of 1,000 partitions, each holding records of 100 bytes:
// "small" partitions hold 100 records, "fulltail" ones hold as much as
// fills their newest segment file to about three quarters of SegmentSize,
// the worst case for memory. MB-RSS-log is what the open Log adds to the
// process. "fulltail-touched" then reads the newest record of every
// partition, so that each loads its tail once: memory stays bounded by
// Options.MaxResidentBytes (plus Go's garbage, see Options).
func BenchmarkIdlePartitions(b *testing.B) {
	for _, tc := range []struct {
		name    string
		records int
		touch   bool
	}{{"small", 100, false}, {"fulltail", 7000, false}, {"fulltail-touched", 7000, true}} {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			l, p := benchLogDir(b, dir, &eventlog.Options{Sync: eventlog.SyncNever}, 1000)
			value := bytes.Repeat([]byte("x"), 100)
			for i := range 1000 * tc.records {
				p.ProduceAsync(eventlog.Record{Topic: "t", Partition: i % 1000, Value: value}, nil)
			}
			if err := p.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
			p.Close()
			l.Close()
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIdleRSS$")
				cmd.Env = append(os.Environ(), "EVENTLOG_IDLE_DIR="+dir)
				if tc.touch {
					cmd.Env = append(cmd.Env, "EVENTLOG_IDLE_TOUCH=1")
				}
				out, err := cmd.Output()
				if err != nil {
					b.Fatalf("child: %v: %s", err, out)
				}
				var before, after int64
				if _, err := fmt.Sscanf(string(out), "rss %d %d", &before, &after); err != nil {
					b.Fatalf("child printed %q: %v", out, err)
				}
				b.ReportMetric(float64(after)/(1<<20), "MB-RSS")
				b.ReportMetric(float64(after-before)/(1<<20), "MB-RSS-log")
			}
		})
	}
}

// TestHelperIdleRSS runs in a child process of BenchmarkIdlePartitions: it
// opens the Log in EVENTLOG_IDLE_DIR and prints its RSS before and after
// (after reading the newest record of every partition of topic "t", if
// EVENTLOG_IDLE_TOUCH is set).
func TestHelperIdleRSS(t *testing.T) {
	dir := os.Getenv("EVENTLOG_IDLE_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	runtime.GC()
	before := rssBytes(t)
	l, err := eventlog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("EVENTLOG_IDLE_TOUCH") != "" {
		top, err := l.Topic("t")
		if err != nil {
			t.Fatal(err)
		}
		for i := range top.Partitions() {
			part := partition(t, l, "t", i)
			for _, err := range part.Read(t.Context(), part.NextOffset()-1) {
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	runtime.GC()
	after := rssBytes(t)
	fmt.Printf("rss %d %d\n", before, after)
	l.Close()
	os.Exit(0) // no test summary on stdout
}

func benchLog(b *testing.B, opts *eventlog.Options, partitions int) (*eventlog.Log, *eventlog.Producer) {
	return benchLogDir(b, b.TempDir(), opts, partitions)
}

func benchLogDir(b *testing.B, dir string, opts *eventlog.Options, partitions int) (*eventlog.Log, *eventlog.Producer) {
	b.Helper()
	l := openDir(b, dir, opts)
	createTopic(b, l, "t", eventlog.TopicConfig{Partitions: partitions})
	popts := &eventlog.ProducerOptions{}
	if partitions > 1 {
		popts.Partitioner = eventlog.ManualPartitioner()
	}
	return l, newProducer(b, l, popts)
}

// reportRecords reports records/s over the benchmark's elapsed time and
// checks that every record was appended.
func reportRecords(b *testing.B, l *eventlog.Log) {
	b.Helper()
	part := partition(b, l, "t", 0)
	b.ReportMetric(float64(part.NextOffset())/b.Elapsed().Seconds(), "records/s")
}

// rssBytes reads this process's resident set size from /proc.
func rssBytes(b testing.TB) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status:", err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return kb << 10
		}
	}
	b.Skip("no VmRSS")
	return 0
}
