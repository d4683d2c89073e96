package main

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// storeTinyRuns gives each workload small Params covering the code paths
// of the eventlog and tidwall cases: durable or not, one or many
// partitions, one or many goroutines, warm or cold, paced or saturated,
// with and without consumer groups. The byte-sized workloads are shrunk
// from 1,000 partitions x 10 MB and 8 x 128 MiB to 10 x 1 MiB and 8 x 1 MiB.
func storeTinyRuns(workload string) []Params {
	const n = 2000
	var ps []Params
	switch workload {
	case AsyncProduce:
		for _, durable := range []bool{false, true} {
			ps = append(ps,
				Params{Records: n, Size: 100, Partitions: 1, Durable: durable},
				Params{Records: n, Size: 1024, Partitions: 16, Durable: durable})
		}
	case SyncProduce:
		for _, durable := range []bool{false, true} {
			for _, g := range []int{1, 64} {
				ps = append(ps, Params{Records: n, Size: 100, Partitions: 1, Goroutines: g, Durable: durable})
			}
		}
	case Replay:
		for _, cold := range []bool{false, true} {
			ps = append(ps, Params{Records: n, Size: 100, Partitions: 1, Cold: cold})
		}
	case Latency:
		ps = []Params{
			{Records: n, Size: 100, Partitions: 1, Rate: 10_000},
			{Records: n, Size: 100, Partitions: 1},
			{Records: n, Size: 100, Partitions: 1, Durable: true},
		}
	case FanOut:
		ps = []Params{
			{Records: n, Size: 100, Partitions: 4},
			{Records: n, Size: 100, Partitions: 4, Groups: 16},
			{Records: n, Size: 100, Partitions: 4, Groups: 2, Durable: true},
		}
	case IdlePartitions:
		ps = []Params{{Records: 10 * 1024, Size: 1024, Partitions: 10, BytesPerPartition: 1 << 20}}
	case OpenLog:
		for _, cold := range []bool{false, true} {
			ps = append(ps, Params{Records: 8 * 1024, Size: 1024, Partitions: 8, BytesPerPartition: 1 << 20, Cold: cold})
		}
	}
	return ps
}

// runTinyCases runs every case system registered once per storeTinyRuns
// entry it supports and checks what the runner relies on: no error, every
// record handled, a positive Elapsed, one positive latency per record for
// Latency, an RSS for IdlePartitions. It fails if a registered case never
// ran. After a produce run, count (if not nil) must find every record in
// the run's directory.
func runTinyCases(t *testing.T, system string, count func(dir string) (int, error)) {
	t.Helper()
	for _, c := range cases {
		if c.System != system {
			continue
		}
		ran := false
		for _, p := range storeTinyRuns(c.Workload) {
			if c.Supports != nil && !c.Supports(p) {
				continue
			}
			ran = true
			name := fmt.Sprintf("%s/%s/%dB/%dp/%dg/%dgroups/rate%d/cold=%v", c.Workload, c.Variant,
				p.Size, p.Partitions, p.Goroutines, p.Groups, p.Rate, p.Cold)
			t.Run(name, func(t *testing.T) {
				p.Dir = t.TempDir()
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				res, err := c.Run(ctx, p)
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				checkTinyResult(t, c.Workload, p, res)
				if count != nil && (c.Workload == AsyncProduce || c.Workload == SyncProduce) {
					n, err := count(p.Dir)
					if err != nil || n != p.Records {
						t.Errorf("directory holds %d records (%v), want %d", n, err, p.Records)
					}
				}
			})
		}
		if !ran {
			t.Errorf("%s %s (%s): no tiny run it supports", system, c.Workload, c.Variant)
		}
	}
}

// checkTinyResult checks one run's Result against its Params: every record
// handled, a positive Elapsed, one latency per record within Elapsed for
// Latency, and what a workload's Extra must hold.
func checkTinyResult(t *testing.T, workload string, p Params, res Result) {
	t.Helper()
	if res.Records != p.Records {
		t.Errorf("Records = %d, want %d", res.Records, p.Records)
	}
	if res.Elapsed <= 0 {
		t.Errorf("Elapsed = %v, want > 0", res.Elapsed)
	}
	switch workload {
	case Latency:
		if len(res.Latencies) != p.Records {
			t.Fatalf("%d latencies, want %d", len(res.Latencies), p.Records)
		}
		// Every send starts after the run's clock does and every arrival
		// is before its end, so no latency can be longer than Elapsed.
		for i, l := range res.Latencies {
			if l <= 0 || l > res.Elapsed {
				t.Fatalf("latency %d = %v, want in (0, Elapsed %v]", i, l, res.Elapsed)
			}
		}
		if p.Rate > 0 {
			// Sends are spaced 1/Rate apart, so the run cannot be
			// shorter than the schedule.
			if min := time.Duration(p.Records-1) * time.Second / time.Duration(p.Rate); res.Elapsed < min {
				t.Errorf("Elapsed = %v at %d records/s, want at least %v", res.Elapsed, p.Rate, min)
			}
		}
	case Replay:
		if r, ok := res.Extra["reopen_s"]; ok && (r <= 0 || r > res.Elapsed.Seconds()) {
			t.Errorf("Extra[reopen_s] = %v, want in (0, Elapsed %v]", r, res.Elapsed.Seconds())
		}
	case IdlePartitions:
		if res.Extra["rss_idle"] <= 0 {
			t.Errorf(`Extra["rss_idle"] = %v, want > 0`, res.Extra["rss_idle"])
		}
	case FanOut:
		if p.Groups > 0 && res.Extra["consumers_done_s"] < res.Elapsed.Seconds() {
			t.Errorf("consumers done after %vs, before the producer's %v", res.Extra["consumers_done_s"], res.Elapsed)
		}
	}
}

func TestEventlogCases(t *testing.T) {
	runTinyCases(t, "eventlog", func(dir string) (int, error) {
		counts, err := elPartitionCounts(dir)
		var n int
		for _, c := range counts {
			n += int(c)
		}
		return n, err
	})
}

// TestEventlogAsyncSpreadsEvenly checks that the eventlog async-produce
// case, which uses the default partitioner with nil keys, gives each
// partition as many records as the others, within one sticky batch (about
// 16 KiB, some 150 records of 100 bytes), as the tidwall case's one
// goroutine per partition does.
func TestEventlogAsyncSpreadsEvenly(t *testing.T) {
	p := Params{Dir: t.TempDir(), Records: 32_000, Size: 100, Partitions: 16}
	if _, err := runEventlogAsync(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	counts, err := elPartitionCounts(p.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != p.Partitions {
		t.Fatalf("%d partitions, want %d", len(counts), p.Partitions)
	}
	const slack = 16 << 10 / 100
	for i, c := range counts {
		if want := int64(p.Records / p.Partitions); c < want-slack || c > want+slack {
			t.Errorf("partition %d holds %d records, want %d ± %d", i, c, want, slack)
		}
	}
}

// TestEventlogTidwallCoverRows checks that every async-produce and sync-produce
// row (and replay, idle-partitions and open row) of the real workload
// table has a case of each of eventlog and
// tidwall that supports it, so no row silently lacks them.
func TestEventlogTidwallCoverRows(t *testing.T) {
	for _, r := range workloadTable() {
		switch r.Workload {
		case AsyncProduce, SyncProduce, Replay, IdlePartitions, OpenLog:
		default:
			continue
		}
		for _, system := range []string{"eventlog", "tidwall"} {
			if r.Workload == IdlePartitions && system == "tidwall" {
				continue // depends on the memory available now; see twIdleFits
			}
			found := false
			for _, c := range cases {
				if c.System == system && c.Workload == r.Workload && (c.Supports == nil || c.Supports(r.Params)) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no %s case supports %+v", r.Workload, system, r.Params)
			}
		}
	}
}

// elPartitionCounts opens the Log in dir and returns how many records each
// partition of elTopic holds.
func elPartitionCounts(dir string) ([]int64, error) {
	l, t, err := elReopen(dir)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	var counts []int64
	for i := range t.Partitions() {
		part, err := t.Partition(i)
		if err != nil {
			return nil, err
		}
		counts = append(counts, part.NextOffset()-part.FirstOffset())
	}
	return counts, nil
}

// BenchmarkEventlogAsync runs the eventlog async-produce case (100-byte
// records, one partition, no fsync) b.N times, for profiling:
// go test -run XXX -bench EventlogAsync -cpuprofile cpu.out.
func BenchmarkEventlogAsync(b *testing.B) {
	benchCase(b, runEventlogAsync, Params{Records: 1_000_000, Size: 100, Partitions: 1})
}

// benchCase runs one case b.N times with p (in a fresh directory each
// time) and reports its records/s.
func benchCase(b *testing.B, run func(context.Context, Params) (Result, error), p Params) {
	var total Result
	for b.Loop() {
		p.Dir = b.TempDir()
		res, err := run(b.Context(), p)
		if err != nil {
			b.Fatal(err)
		}
		total.Records += res.Records
		total.Elapsed += res.Elapsed
	}
	b.ReportMetric(float64(total.Records)/total.Elapsed.Seconds(), "records/s")
}

// BenchmarkEventlogReplay runs the eventlog replay case (1,000,000 records
// of 100 bytes, warm page cache) b.N times; its profile includes the
// untimed write, so focus on Partition.Read.
func BenchmarkEventlogReplay(b *testing.B) {
	benchCase(b, runEventlogReplay, Params{Records: 1_000_000, Size: 100, Partitions: 1})
}
