package main

import (
	"fmt"
	"math"
)

// target is one of issue 4's performance targets, evaluated from the
// medians of one run of the comparison.
type target struct {
	Name   string  // the target in words, for the table
	Label  string  // a short form, for the chart
	Need   float64 // the required ratio
	AtMost bool    // the ratio must be at most Need (else at least Need)
	// measure computes the ratio and a line saying what it was made of;
	// ok is false when a cell it needs did not run or failed.
	measure func(find finder) (ratio float64, detail string, ok bool)
}

// finder returns the medians of system's cell on the row (workload, p),
// ignoring p.Records and p.Dir; ok is false if it did not run or every
// round failed.
type finder func(workload string, p Params, system string) (s stats, ok bool)

// targetResult is a target's verdict, as printed and stored in results.json.
type targetResult struct {
	Name     string  `json:"name"`
	Label    string  `json:"label"`
	Need     float64 `json:"need"`
	AtMost   bool    `json:"at_most"`
	Measured float64 `json:"measured"` // 0 when Status is "n/a"
	Detail   string  `json:"detail"`
	Status   string  `json:"status"` // PASS, MISS or n/a (not measured)
}

// evaluate checks every target against find.
func evaluate(ts []target, find finder) []targetResult {
	out := make([]targetResult, 0, len(ts))
	for _, t := range ts {
		r := targetResult{Name: t.Name, Label: t.Label, Need: t.Need, AtMost: t.AtMost, Status: "n/a"}
		v, detail, ok := t.measure(find)
		if ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			r.Measured, r.Detail = v, detail
			r.Status = "MISS"
			if (t.AtMost && v <= t.Need) || (!t.AtMost && v >= t.Need) {
				r.Status = "PASS"
			}
		}
		out = append(out, r)
	}
	return out
}

// needText prints a requirement: "≥ 25x" or "≤ 2x".
func (r targetResult) needText() string {
	op := "≥"
	if r.AtMost {
		op = "≤"
	}
	return op + " " + fmtRatio(r.Need)
}

// The rows the targets read; Records is left out, as in rowKey.
func asyncP(size, parts int, durable bool) Params {
	return Params{Size: size, Partitions: parts, Durable: durable}
}
func syncP(goroutines int, durable bool) Params {
	return Params{Size: 100, Partitions: 1, Goroutines: goroutines, Durable: durable}
}
func replayP(cold bool) Params  { return Params{Size: 100, Partitions: 1, Cold: cold} }
func latencyP(rate int) Params  { return Params{Size: 100, Partitions: 1, Rate: rate} }
func fanoutP(groups int) Params { return Params{Size: 100, Partitions: 4, Groups: groups} }
func idleP() Params             { return Params{Size: 1024, Partitions: 1000, BytesPerPartition: 10 * mib} }
func openP() Params             { return Params{Size: 1024, Partitions: 8, BytesPerPartition: 128 * mib} }

// rateVs is a throughput target: records/s of (pa, sa) ÷ records/s of (pb, sb).
func rateVs(name, label, workload string, pa Params, sa string, pb Params, sb string, need float64) target {
	return target{Name: name, Label: label, Need: need,
		measure: func(find finder) (float64, string, bool) {
			a, okA := find(workload, pa, sa)
			b, okB := find(workload, pb, sb)
			if !okA || !okB || b.Rate == 0 {
				return 0, "", false
			}
			return a.Rate / b.Rate, fmt.Sprintf("%s ÷ %s", fmtRate(a.Rate), fmtRate(b.Rate)), true
		}}
}

// latencyVs is a latency target at 10k records/s: num's percentile ÷ den's.
func latencyVs(name, label string, p99 bool, num, den string, need float64, atMost bool) target {
	return target{Name: name, Label: label, Need: need, AtMost: atMost,
		measure: func(find finder) (float64, string, bool) {
			a, okA := find(Latency, latencyP(10_000), num)
			b, okB := find(Latency, latencyP(10_000), den)
			if !okA || !okB || !a.Latency || !b.Latency {
				return 0, "", false
			}
			x, y := a.P50, b.P50
			if p99 {
				x, y = a.P99, b.P99
			}
			if y == 0 {
				return 0, "", false
			}
			return x / y, fmt.Sprintf("%s %s ÷ %s %s", num, fmtSeconds(x), den, fmtSeconds(y)), true
		}}
}

// memoryUnder is an RSS budget: the largest eventlog figure over rows ÷
// limit must be at most 1. idle reads Extra["rss_idle"], else peak RSS.
func memoryUnder(name, label, workload string, rows []Params, idle bool, limit float64) target {
	return target{Name: name, Label: label, Need: 1, AtMost: true,
		measure: func(find finder) (float64, string, bool) {
			worst := math.NaN()
			for _, p := range rows {
				s, ok := find(workload, p, "eventlog")
				if !ok {
					return 0, "", false
				}
				v := s.MaxRSS
				if idle {
					v, ok = s.Extra["rss_idle"]
					if !ok {
						return 0, "", false
					}
				}
				if math.IsNaN(worst) || v > worst {
					worst = v
				}
			}
			return worst / limit, fmt.Sprintf("%s of %s", fmtBytes(worst), fmtBytes(limit)), true
		}}
}

// targets are issue 4's targets. Where the issue leaves a dimension open
// (one partition or sixteen), both are checked.
var targets = []target{
	rateVs("Async produce, 100 B, no fsync, 1 partition: eventlog ÷ raw tidwall/wal WriteBatch(1000)",
		"async 100 B no-fsync, 1 part: ÷ tidwall", AsyncProduce,
		asyncP(100, 1, false), "eventlog", asyncP(100, 1, false), "tidwall", 1),
	rateVs("Async produce, 100 B, no fsync, 16 partitions: eventlog ÷ raw tidwall/wal WriteBatch(1000)",
		"async 100 B no-fsync, 16 parts: ÷ tidwall", AsyncProduce,
		asyncP(100, 16, false), "eventlog", asyncP(100, 16, false), "tidwall", 1),
	rateVs("Async produce, 100 B, no fsync, 1 partition: eventlog ÷ NATS JetStream async publish (default sync interval)",
		"async 100 B no-fsync, 1 part: ÷ NATS", AsyncProduce,
		asyncP(100, 1, false), "eventlog", asyncP(100, 1, false), "nats", 8),
	rateVs("Async produce, 100 B, no fsync, 16 partitions: eventlog ÷ NATS JetStream async publish (default sync interval)",
		"async 100 B no-fsync, 16 parts: ÷ NATS", AsyncProduce,
		asyncP(100, 16, false), "eventlog", asyncP(100, 16, false), "nats", 8),
	rateVs("Durable Produce: 64 goroutines ÷ 1 goroutine (eventlog, default policy)",
		"durable produce: 64 ÷ 1 goroutine", SyncProduce,
		syncP(64, true), "eventlog", syncP(1, true), "eventlog", 25),
	rateVs("Durable Produce, 64 goroutines: eventlog ÷ NATS JetStream sync publish, sync always (64 goroutines)",
		"durable produce, 64 g: ÷ NATS sync always", SyncProduce,
		syncP(64, true), "eventlog", syncP(64, true), "nats", 25),
	rateVs("Durable Produce, 64 goroutines: eventlog ÷ group-commit goroutine over raw tidwall/wal (WriteBatch + fsync)",
		"durable produce, 64 g: ÷ tidwall group commit", SyncProduce,
		syncP(64, true), "eventlog", syncP(64, true), "tidwall", 1.5),
	rateVs("Async produce, 100 B, default (fsync) policy, 1 partition: eventlog ÷ raw tidwall/wal WriteBatch(1000) + fsync",
		"async 100 B fsync, 1 part: ÷ tidwall+fsync", AsyncProduce,
		asyncP(100, 1, true), "eventlog", asyncP(100, 1, true), "tidwall", 0.8),
	rateVs("Async produce, 100 B, default (fsync) policy, 16 partitions: eventlog ÷ raw tidwall/wal WriteBatch(1000) + fsync",
		"async 100 B fsync, 16 parts: ÷ tidwall+fsync", AsyncProduce,
		asyncP(100, 16, true), "eventlog", asyncP(100, 16, true), "tidwall", 0.8),
	rateVs("Replay of a reopened partition, warm cache: eventlog ÷ raw tidwall/wal Read of every entry",
		"replay warm: ÷ tidwall Read", Replay, replayP(false), "eventlog", replayP(false), "tidwall", 1),
	rateVs("Replay of a reopened partition, cold cache: eventlog ÷ raw tidwall/wal Read of every entry",
		"replay cold: ÷ tidwall Read", Replay, replayP(true), "eventlog", replayP(true), "tidwall", 1),
	rateVs("Replay of a reopened partition, warm cache: eventlog ÷ NATS ordered consumer",
		"replay warm: ÷ NATS ordered consumer", Replay, replayP(false), "eventlog", replayP(false), "nats", 10),
	rateVs("Replay of a reopened partition, cold cache: eventlog ÷ NATS ordered consumer",
		"replay cold: ÷ NATS ordered consumer", Replay, replayP(true), "eventlog", replayP(true), "nats", 10),
	latencyVs("Latency produce→Poll, no fsync, 10k records/s, p50: eventlog ÷ Watermill GoChannel",
		"latency p50 @10k/s: eventlog ÷ Watermill", false, "eventlog", "watermill", 2, true),
	latencyVs("Latency produce→Poll, no fsync, 10k records/s, p99: eventlog ÷ Watermill GoChannel",
		"latency p99 @10k/s: eventlog ÷ Watermill", true, "eventlog", "watermill", 2, true),
	latencyVs("Latency, 10k records/s, p50: NATS JetStream ÷ eventlog (how many times lower eventlog is)",
		"latency p50 @10k/s: NATS ÷ eventlog", false, "nats", "eventlog", 20, false),
	latencyVs("Latency, 10k records/s, p50: kfake ÷ eventlog (how many times lower eventlog is)",
		"latency p50 @10k/s: kfake ÷ eventlog", false, "kfake", "eventlog", 20, false),
	rateVs("Fan-out: producer records/s with 16 groups tailing ÷ with none (eventlog)",
		"fan-out: 16 groups ÷ none", FanOut, fanoutP(16), "eventlog", fanoutP(0), "eventlog", 0.7),
	memoryUnder("Memory: 1,000 partitions x 10 MiB written, then idle: RSS ÷ 256 MiB",
		"idle 1000 parts: RSS ÷ 256 MiB", IdlePartitions, []Params{idleP()}, true, 256*mib),
	memoryUnder("Memory: 16 partitions under sustained async produce (100 B and 1 KiB, fsync and not): worst peak RSS ÷ 128 MiB",
		"async 16 parts: peak RSS ÷ 128 MiB", AsyncProduce,
		[]Params{asyncP(100, 16, false), asyncP(100, 16, true), asyncP(1024, 16, false), asyncP(1024, 16, true)}, false, 128*mib),
	{Name: "Open of a log with 1 GiB in 8 partitions: eventlog time ÷ raw tidwall/wal Open time",
		Label: "open 1 GiB in 8 parts: time ÷ tidwall", Need: 2, AtMost: true,
		measure: func(find finder) (float64, string, bool) {
			a, okA := find(OpenLog, openP(), "eventlog")
			b, okB := find(OpenLog, openP(), "tidwall")
			if !okA || !okB || b.Elapsed == 0 {
				return 0, "", false
			}
			return a.Elapsed / b.Elapsed, fmt.Sprintf("%s ÷ %s", fmtSeconds(a.Elapsed), fmtSeconds(b.Elapsed)), true
		}},
}
