package main

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
)

// cell is one case on one row: the unit the runner runs once per round.
type cell struct {
	Row  row
	Case Case
	Runs []roundRun // one per round, in order
}

// roundRun is one child run of a cell.
type roundRun struct {
	Round int
	childRun
}

// name is what -only matches: "workload/system".
func (c *cell) name() string { return c.Case.Workload + "/" + c.Case.System }

// params returns the Params the cell runs with (Dir is set per run).
func (c *cell) params() Params {
	p := c.Row.Params
	p.Records = c.Row.recordsFor(c.Case.System)
	return p
}

// systemOrder puts eventlog first (every ratio is eventlog ÷ other), then
// the alternatives in the order the issue lists them.
var systemOrder = []string{"eventlog", "tidwall", "nats", "watermill", "kfake"}

func systemRank(s string) int {
	if i := slices.Index(systemOrder, s); i >= 0 {
		return i
	}
	return len(systemOrder)
}

// plan lists the cells to run: every row with every case of its workload
// that supports its params and whose "workload/system" matches only (nil
// matches all). Cells are in row order, eventlog first within a row.
func plan(rows []row, cs []Case, only *regexp.Regexp) []*cell {
	sorted := slices.Clone(cs)
	slices.SortStableFunc(sorted, func(a, b Case) int {
		return cmp.Compare(systemRank(a.System), systemRank(b.System))
	})
	var cells []*cell
	for _, r := range rows {
		for _, c := range sorted {
			if c.Workload != r.Workload {
				continue
			}
			cl := &cell{Row: r, Case: c}
			if only != nil && !only.MatchString(cl.name()) {
				continue
			}
			if c.Supports != nil && !c.Supports(cl.params()) {
				continue
			}
			cells = append(cells, cl)
		}
	}
	return cells
}

// selectRows drops the rows that -quick and -skip-big leave out, and
// divides record counts by 10 under -quick.
func selectRows(rows []row, quick, skipBig bool) []row {
	var out []row
	for _, r := range rows {
		if r.Big && (quick || skipBig) {
			continue
		}
		if quick {
			r.Params.Records = max(r.Params.Records/10, 1)
			slow := make(map[string]int, len(r.Slow))
			for s, n := range r.Slow {
				slow[s] = max(n/10, 1)
			}
			r.Slow = slow
		}
		out = append(out, r)
	}
	return out
}

// stats is a cell's medians over its successful rounds. Zero-valued (and
// OK == 0) when every round failed.
type stats struct {
	OK       int                // successful rounds
	Failed   int                // failed rounds
	Rate     float64            // records/s
	Elapsed  float64            // seconds
	P50      float64            // latency, seconds; each the median of per-round percentiles
	P99      float64            // "
	P999     float64            // "
	MaxRSS   float64            // bytes
	Extra    map[string]float64 // median of each key over the rounds that reported it
	Latency  bool               // some round reported latencies
	Rounds   []latencySummary   // per-round latency summaries
	Failures []string           // one message per failed round
}

// summarizeCell computes the medians of c's runs.
func summarizeCell(c *cell) stats {
	var s stats
	var rates, els, p50, p99, p999, rss []float64
	extras := map[string][]float64{}
	for _, r := range c.Runs {
		if r.Err != nil {
			s.Failed++
			s.Failures = append(s.Failures, fmt.Sprintf("round %d: %v", r.Round, r.Err))
			continue
		}
		s.OK++
		res := r.Result
		rates = append(rates, float64(res.Records)/res.Elapsed.Seconds())
		els = append(els, res.Elapsed.Seconds())
		rss = append(rss, float64(r.MaxRSS))
		if len(res.Latencies) > 0 {
			ls := summarize(res.Latencies)
			s.Latency = true
			s.Rounds = append(s.Rounds, ls)
			p50 = append(p50, ls.P50.Seconds())
			p99 = append(p99, ls.P99.Seconds())
			p999 = append(p999, ls.P999.Seconds())
		}
		for k, v := range res.Extra {
			extras[k] = append(extras[k], v)
		}
	}
	if s.OK == 0 {
		return s
	}
	s.Rate, s.Elapsed, s.MaxRSS = median(rates), median(els), median(rss)
	if s.Latency {
		s.P50, s.P99, s.P999 = median(p50), median(p99), median(p999)
	}
	if len(extras) > 0 {
		s.Extra = make(map[string]float64, len(extras))
		for k, vs := range extras {
			s.Extra[k] = median(vs)
		}
	}
	return s
}

// value returns the number a table shows for m (NaN if there is none):
// records/s, p50 seconds, rss_idle bytes or elapsed seconds.
func (s stats) value(m metric) float64 {
	if s.OK == 0 {
		return math.NaN()
	}
	switch m {
	case latency:
		if !s.Latency {
			return math.NaN()
		}
		return s.P50
	case idleRSS:
		v, ok := s.Extra["rss_idle"]
		if !ok {
			return math.NaN()
		}
		return v
	case elapsed:
		return s.Elapsed
	}
	return s.Rate
}

// ratio is eventlog's figure divided by other's for metric m: for rate,
// above 1 means eventlog is faster; for latency, idle RSS and elapsed time,
// below 1 means eventlog is better. For latency the second value is the p99
// ratio (the first is p50). NaN where either side has no figure.
func ratio(eventlog, other stats, m metric) (float64, float64) {
	a, b := eventlog.value(m), other.value(m)
	r := a / b
	if b == 0 {
		r = math.NaN()
	}
	if m != latency || math.IsNaN(r) || other.P99 == 0 {
		return r, math.NaN()
	}
	return r, eventlog.P99 / other.P99
}
