package main

import (
	"fmt"
	"strings"
)

// metric is what a workload's table shows for each system, and which way
// is better.
type metric int

const (
	// rate is records per second of the timed part; higher is better.
	rate metric = iota
	// latency is the per-record latency percentiles; lower is better.
	latency
	// idleRSS is Extra["rss_idle"], the resident bytes after idling; lower
	// is better.
	idleRSS
	// elapsed is the timed part's duration; lower is better.
	elapsed
)

// row is one line of the workload table: a workload with its Params (Dir
// left empty; the runner gives every run a fresh one).
type row struct {
	Workload string
	Params   Params
	// Slow gives fewer records to the systems that would otherwise take
	// minutes at Params.Records (for example NATS fsyncing every message).
	// The tables compare records per second, which does not depend on the
	// count once a run lasts a second or more.
	Slow map[string]int
	// Big marks rows that write gigabytes (skipped by -skip-big and -quick).
	Big bool
}

// recordsFor returns the record count the row gives system.
func (r row) recordsFor(system string) int {
	if n, ok := r.Slow[system]; ok {
		return n
	}
	return r.Params.Records
}

// key identifies the row independent of record counts and directories.
func (r row) key() string { return rowKey(r.Workload, r.Params) }

// rowKey is row.key for a workload and params; Records and Dir are ignored.
func rowKey(workload string, p Params) string {
	p.Records, p.Dir = 0, ""
	return fmt.Sprintf("%s %+v", workload, p)
}

// label describes the row's params for the tables, e.g.
// "100 B, 16 partitions, fsync".
func (r row) label() string {
	p := r.Params
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	switch r.Workload {
	case AsyncProduce:
		add("%s, %s", sizeLabel(p.Size), plural(p.Partitions, "partition"))
		add("%s", durableLabel(p.Durable))
	case SyncProduce:
		add("%s", plural(p.Goroutines, "goroutine"))
		add("%s", durableLabel(p.Durable))
	case Replay:
		if p.Cold {
			add("cold cache")
		} else {
			add("warm cache")
		}
	case Latency:
		if p.Rate > 0 {
			add("%d records/s", p.Rate)
		} else {
			add("saturated")
		}
		add("%s", durableLabel(p.Durable))
	case FanOut:
		add("%s, %s", plural(p.Groups, "group"), plural(p.Partitions, "partition"))
	case IdlePartitions, OpenLog:
		add("%s x %s", plural(p.Partitions, "partition"), bytesLabel(float64(p.BytesPerPartition)))
	}
	return strings.Join(parts, ", ")
}

// metric returns what the row's table shows.
func (r row) metric() metric {
	switch r.Workload {
	case Latency:
		return latency
	case IdlePartitions:
		return idleRSS
	case OpenLog:
		return elapsed
	}
	return rate
}

func durableLabel(durable bool) string {
	if durable {
		return "fsync"
	}
	return "no fsync"
}

func sizeLabel(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d B", n)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Record counts are chosen so that a full run (3 rounds of every row on
// every system) takes about ten minutes on 2 cores: each cell's timed
// part lasts roughly one to three seconds. NATS publishes an
// order of magnitude slower than the others, so it gets fewer records.
const (
	mib = 1 << 20
	// natsDurable is the record count for NATS with sync always, which
	// fsyncs every message (~1k/s on the reference machine).
	natsDurable = 5_000
)

// workloadTable is every row the comparison runs, in table order.
func workloadTable() []row {
	var rows []row
	// 1. async-produce: size x partitions x durability.
	for _, size := range []int{100, 1024} {
		for _, parts := range []int{1, 16} {
			for _, durable := range []bool{false, true} {
				n, natsN := 2_000_000, 400_000 // 200 MB
				if size == 1024 {
					n, natsN = 200_000, 100_000 // 200 MiB
				}
				if durable {
					natsN = natsDurable
				}
				rows = append(rows, row{Workload: AsyncProduce, Slow: map[string]int{"nats": natsN},
					Params: Params{Records: n, Size: size, Partitions: parts, Durable: durable}})
			}
		}
	}
	// 2. sync-produce: goroutines x durability, 100 B, one partition.
	for _, g := range []int{1, 64} {
		for _, durable := range []bool{true, false} {
			var n int
			var slow map[string]int
			switch {
			case durable && g == 1:
				n = 5_000 // one fsync per record for everyone
			case durable:
				n, slow = 100_000, map[string]int{"nats": natsDurable}
			case g == 1:
				n, slow = 200_000, map[string]int{"nats": 40_000, "kfake": 20_000}
			default:
				n, slow = 500_000, map[string]int{"nats": 100_000, "kfake": 100_000}
			}
			rows = append(rows, row{Workload: SyncProduce, Slow: slow,
				Params: Params{Records: n, Size: 100, Partitions: 1, Goroutines: g, Durable: durable}})
		}
	}
	// 3. replay of a reopened log, warm and cold page cache.
	for _, cold := range []bool{false, true} {
		// kfake holds everything in memory (about 0.5 GiB per million).
		rows = append(rows, row{Workload: Replay, Slow: map[string]int{"nats": 400_000, "kfake": 1_000_000},
			Params: Params{Records: 2_000_000, Size: 100, Partitions: 1, Cold: cold}})
	}
	// 4. end-to-end latency at 10k records/s and saturated.
	rows = append(rows,
		row{Workload: Latency, Params: Params{Records: 20_000, Size: 100, Partitions: 1, Rate: 10_000}},
		row{Workload: Latency, Slow: map[string]int{"kfake": 20_000},
			Params: Params{Records: 50_000, Size: 100, Partitions: 1}},
	)
	// 5. fan-out: one producer, 0 or 16 groups tailing it.
	for _, groups := range []int{0, 16} {
		rows = append(rows, row{Workload: FanOut, Params: Params{Records: 1_000_000, Size: 100, Partitions: 4, Groups: groups}})
	}
	// 6, 7: gigabytes on disk.
	rows = append(rows,
		row{Workload: IdlePartitions, Big: true,
			Params: Params{Records: 1000 * 10 * mib / 1024, Size: 1024, Partitions: 1000, BytesPerPartition: 10 * mib}},
		row{Workload: OpenLog, Big: true,
			Params: Params{Records: 8 * 128 * mib / 1024, Size: 1024, Partitions: 8, BytesPerPartition: 128 * mib}},
	)
	return rows
}
