package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestMain lets the test binary act as the runner's child: the end-to-end
// tests re-exec os.Args[0] with childFlag, exactly as the program does.
func TestMain(m *testing.M) {
	if isChild(os.Args) {
		os.Exit(childMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// The test-only cases run a workload no row of the real table has, so they
// never join a real comparison and other files' tests never see them.
const (
	testWorkload = "runner-selftest"
	testSystem   = "fake"
	testRSS      = 64 * mib // what the "ok" case holds resident
)

func init() {
	register(
		Case{Workload: testWorkload, System: testSystem, Variant: "ok", Run: fakeOK},
		Case{Workload: testWorkload, System: testSystem, Variant: "fails",
			Run: func(context.Context, Params) (Result, error) { return Result{}, errors.New("boom: disk on fire") }},
		Case{Workload: testWorkload, System: testSystem, Variant: "panics",
			Supports: func(p Params) bool { return p.Size == 2 },
			Run:      func(context.Context, Params) (Result, error) { panic("index out of range in the case") }},
		Case{Workload: testWorkload, System: testSystem, Variant: "hangs",
			Supports: func(p Params) bool { return p.Size == 2 },
			Run: func(ctx context.Context, _ Params) (Result, error) {
				<-ctx.Done() // the parent's SIGTERM at the timeout
				return Result{}, ctx.Err()
			}},
	)
}

// fakeOK checks it got a fresh empty directory, holds testRSS resident, and
// reports Records latencies of 1ms..Records ms.
func fakeOK(_ context.Context, p Params) (Result, error) {
	entries, err := os.ReadDir(p.Dir)
	if err != nil || len(entries) != 0 {
		return Result{}, errors.New("Params.Dir is not a fresh empty directory")
	}
	if err := os.WriteFile(filepath.Join(p.Dir, "x"), []byte("data"), 0o644); err != nil {
		return Result{}, err
	}
	start := time.Now()
	buf := make([]byte, testRSS)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	lat := make([]time.Duration, p.Records)
	for i := range lat {
		lat[i] = time.Duration(i+1) * time.Millisecond
	}
	return Result{Records: p.Records, Elapsed: time.Since(start), Latencies: lat,
		Extra: map[string]float64{"rss_idle": float64(rssNow()), "touched": float64(buf[4096])}}, nil
}

func TestMedian(t *testing.T) {
	in := []float64{5, 1, 3}
	if got := median(in); got != 3 {
		t.Errorf("median(5,1,3) = %v, want 3", got)
	}
	if !slices.Equal(in, []float64{5, 1, 3}) {
		t.Errorf("median reordered its input: %v", in)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median(4,1,3,2) = %v, want 2.5", got)
	}
	if got := median([]float64{7}); got != 7 {
		t.Errorf("median(7) = %v, want 7", got)
	}
	if got := median(nil); !math.IsNaN(got) {
		t.Errorf("median() = %v, want NaN", got)
	}
}

func TestPercentileNearestRank(t *testing.T) {
	var ms []time.Duration
	for i := 1; i <= 1000; i++ {
		ms = append(ms, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {0.999, 999 * time.Millisecond}, {1, time.Second}, {0.0001, time.Millisecond}} {
		if got := percentile(ms, tc.q); got != tc.want {
			t.Errorf("percentile(1..1000ms, %v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	// With 100 values, p999 is the largest: a single outlier shows.
	if got := percentile(ms[:100], 0.999); got != 100*time.Millisecond {
		t.Errorf("p999 of 100 values = %v, want the largest, 100ms", got)
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of nothing = %v, want 0", got)
	}
}

func TestSummarizeDoesNotReorder(t *testing.T) {
	lat := []time.Duration{3, 1, 2, 4}
	s := summarize(lat)
	if s.Count != 4 || s.P50 != 2 || s.Max != 4 || s.Mean != 2 {
		t.Errorf("summarize(3,1,2,4) = %+v, want count 4, p50 2, max 4, mean 2", s)
	}
	if !slices.Equal(lat, []time.Duration{3, 1, 2, 4}) {
		t.Errorf("summarize reordered its input: %v", lat)
	}
}

// fakeCell is a cell whose runs are given, for table tests without processes.
func fakeCell(r row, system, variant string, runs ...childRun) *cell {
	c := &cell{Row: r, Case: Case{Workload: r.Workload, System: system, Variant: variant}}
	for i, cr := range runs {
		c.Runs = append(c.Runs, roundRun{Round: i + 1, childRun: cr})
	}
	return c
}

func okRun(records int, elapsed time.Duration, rss int64, lat ...time.Duration) childRun {
	return childRun{Result: Result{Records: records, Elapsed: elapsed, Latencies: lat}, MaxRSS: rss}
}

func TestSummarizeCellTakesMediansOverRounds(t *testing.T) {
	r := row{Workload: Latency, Params: latencyP(10_000)}
	c := fakeCell(r, "eventlog", "no fsync",
		okRun(1000, 1*time.Second, 10*mib, 1, 2, 3, 100),
		okRun(1000, 4*time.Second, 30*mib, 5, 6, 7, 200),
		okRun(1000, 2*time.Second, 20*mib, 9, 9, 9, 300),
		childRun{Err: errors.New("killed")})
	s := summarizeCell(c)
	if s.OK != 3 || s.Failed != 1 {
		t.Fatalf("OK, Failed = %d, %d, want 3, 1", s.OK, s.Failed)
	}
	if s.Rate != 500 {
		t.Errorf("median rate = %v, want 500 (rates 1000, 250, 500)", s.Rate)
	}
	if s.MaxRSS != 20*mib {
		t.Errorf("median peak RSS = %v, want 20 MiB", s.MaxRSS)
	}
	// Per-round p50s are 2, 6, 9 ns; p99s are 100, 200, 300 ns.
	if s.P50 != 6e-9 || s.P99 != 200e-9 {
		t.Errorf("median p50, p99 = %v, %v, want 6ns, 200ns", s.P50, s.P99)
	}
	if len(s.Failures) != 1 || !strings.Contains(s.Failures[0], "round 4: killed") {
		t.Errorf("failures = %q, want round 4's", s.Failures)
	}
}

func TestRatio(t *testing.T) {
	el := stats{OK: 1, Rate: 2e6, Elapsed: 3, Latency: true, P50: 10e-6, P99: 40e-6, Extra: map[string]float64{"rss_idle": 100}}
	other := stats{OK: 1, Rate: 1e6, Elapsed: 1, Latency: true, P50: 20e-6, P99: 20e-6, Extra: map[string]float64{"rss_idle": 400}}
	for _, tc := range []struct {
		m        metric
		want     float64
		want99   float64
		wantNaN9 bool
	}{
		{m: rate, want: 2, wantNaN9: true},
		{m: latency, want: 0.5, want99: 2},
		{m: idleRSS, want: 0.25, wantNaN9: true},
		{m: elapsed, want: 3, wantNaN9: true},
	} {
		r, r99 := ratio(el, other, tc.m)
		if r != tc.want || (tc.wantNaN9 != math.IsNaN(r99)) || (!tc.wantNaN9 && r99 != tc.want99) {
			t.Errorf("ratio(metric %d) = %v, %v, want %v, %v", tc.m, r, r99, tc.want, tc.want99)
		}
	}
	if r, _ := ratio(el, stats{}, rate); !math.IsNaN(r) {
		t.Errorf("ratio against a failed cell = %v, want NaN", r)
	}
}

func TestTableShowsValuesRatiosAndErrors(t *testing.T) {
	r1 := row{Workload: AsyncProduce, Params: Params{Records: 1000, Size: 100, Partitions: 1}}
	r2 := row{Workload: AsyncProduce, Params: Params{Records: 1000, Size: 100, Partitions: 1, Durable: true}}
	cells := []*cell{
		fakeCell(r1, "eventlog", "SyncNever", okRun(2_000_000, time.Second, 50*mib)),
		fakeCell(r1, "tidwall", "no fsync", childRun{Result: Result{Records: 1_000_000, Elapsed: time.Second,
			Extra: map[string]float64{"reopen_s": 0.25}}, MaxRSS: 40 * mib}),
		fakeCell(r1, "nats", "sync_interval 2m (default)", okRun(100_000, time.Second, 80*mib)),
		fakeCell(r2, "eventlog", "SyncAlways", okRun(500_000, time.Second, 50*mib)),
		fakeCell(r2, "nats", "sync always", childRun{Err: errors.New("killed after the 3m0s timeout")}),
	}
	st := map[*cell]stats{}
	for _, c := range cells {
		st[c] = summarizeCell(c)
	}
	var b bytes.Buffer
	writeTables(&b, cells, st)
	out := b.String()
	for _, want := range []string{
		"| params | eventlog | tidwall | nats | eventlog ÷ tidwall | eventlog ÷ nats |",
		"| 100 B, 1 partition, no fsync | 2.00M/s · 50.0 MiB | 1.00M/s · 40.0 MiB | 100k/s · 80.0 MiB | 2.00x | 20.0x |",
		"| 100 B, 1 partition, fsync | 500k/s · 50.0 MiB | — | error (error 1) | — | — |",
		"- nats: sync_interval 2m (default); sync always",
		"- 100 B, 1 partition, no fsync, tidwall: reopen_s 250ms",
		"1. async-produce, 100 B, 1 partition, fsync, nats (sync always): round 1: killed after the 3m0s timeout",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q; got:\n%s", want, out)
		}
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{fmtRate(2_345_678), "2.35M/s"},
		{fmtRate(9_999.6), "10.0k/s"},
		{fmtRate(1_083), "1.08k/s"},
		{fmtRate(456_000), "456k/s"},
		{fmtRate(789), "789/s"},
		{fmtSeconds(0.000_041_3), "41.3µs"},
		{fmtSeconds(0.999_96), "1.00s"}, {fmtSeconds(0.000_999_9), "1.00ms"},
		{fmtSeconds(2.5), "2.50s"},
		{fmtBytes(272 * mib), "272 MiB"},
		{fmtBytes(512 * 1024), "512 KiB"},
		{bytesLabel(10 * mib), "10 MiB"},
		{bytesLabel(1 << 30), "1 GiB"},
		{fmtRatio(0.004), "0.004x"}, {fmtRatio(0.48), "0.48x"},
		{fmtRatio(25), "25.0x"},
		{fmtRatio(408.4), "408x"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestEvaluateTargets(t *testing.T) {
	p := asyncP(100, 1, false)
	find := func(w string, q Params, system string) (stats, bool) {
		switch system {
		case "eventlog":
			return stats{OK: 1, Rate: 3e6}, true
		case "tidwall":
			return stats{OK: 1, Rate: 2e6}, true
		}
		return stats{}, false
	}
	got := evaluate([]target{
		rateVs("a", "a", AsyncProduce, p, "eventlog", p, "tidwall", 1),
		rateVs("b", "b", AsyncProduce, p, "eventlog", p, "tidwall", 2),
		rateVs("c", "c", AsyncProduce, p, "tidwall", p, "eventlog", 0.7),
		rateVs("d", "d", AsyncProduce, p, "eventlog", p, "nats", 8),
	}, find)
	want := []string{"PASS", "MISS", "MISS", "n/a"}
	for i, r := range got {
		if r.Status != want[i] {
			t.Errorf("target %s: %s (measured %v), want %s", r.Name, r.Status, r.Measured, want[i])
		}
	}
	if got[0].Measured != 1.5 || got[0].Detail != "3.00M/s ÷ 2.00M/s" {
		t.Errorf("measured %v %q, want 1.5 from 3.00M/s ÷ 2.00M/s", got[0].Measured, got[0].Detail)
	}
	atMost := target{Name: "m", Need: 2, AtMost: true, measure: func(finder) (float64, string, bool) { return 2, "", true }}
	if r := evaluate([]target{atMost}, find)[0]; r.Status != "PASS" || r.needText() != "≤ 2.00x" {
		t.Errorf("at-most target at its limit: %s %s, want PASS ≤ 2.00x", r.Status, r.needText())
	}
}

// Every target must read rows that the workload table has, or it would
// silently stay "n/a" for ever.
func TestTargetsReadRowsOfTheTable(t *testing.T) {
	keys := map[string]bool{}
	for _, r := range workloadTable() {
		keys[r.key()] = true
	}
	full := stats{OK: 1, Rate: 1, Elapsed: 1, MaxRSS: 1, Latency: true, P50: 1, P99: 1, Extra: map[string]float64{"rss_idle": 1}}
	for _, tg := range targets {
		find := func(w string, p Params, system string) (stats, bool) {
			if !keys[rowKey(w, p)] {
				t.Errorf("target %q reads %s, which no row of the table has", tg.Name, rowKey(w, p))
			}
			return full, true
		}
		if r := evaluate([]target{tg}, find)[0]; r.Status == "n/a" {
			t.Errorf("target %q is n/a with every cell present", tg.Name)
		}
	}
}

func TestChartIsWellFormedSVG(t *testing.T) {
	results := []targetResult{
		{Label: "async <100 B> & co: ÷ tidwall", Need: 1, Measured: 1.4, Status: "PASS"},
		{Label: "latency", Need: 2, AtMost: true, Measured: 3.5, Status: "MISS"},
		{Label: "durable 64 g", Need: 25, Measured: 0.004, Status: "MISS"},
		{Label: "open", Need: 2, AtMost: true, Status: "n/a"},
	}
	var b bytes.Buffer
	if err := writeChart(&b, results, `machine "x" & <y>`); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&b)
	var root xml.StartElement
	texts, bars := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root.Name.Local == "" {
				root = se
			}
			switch se.Name.Local {
			case "text":
				texts++
			case "rect":
				bars++
			}
		}
	}
	if root.Name.Local != "svg" || root.Name.Space != "http://www.w3.org/2000/svg" {
		t.Errorf("root element %v, want svg in the SVG namespace", root.Name)
	}
	for _, a := range root.Attr {
		if a.Name.Local == "width" && a.Value != "900" {
			t.Errorf("width %s, want 900", a.Value)
		}
	}
	// Background, one alternate-row stripe per odd row (2), a bar per measured target (3).
	if bars != 1+2+3 {
		t.Errorf("%d rects, want 6", bars)
	}
	if texts < 2+2*len(results) {
		t.Errorf("%d text elements, want a label and a verdict per target", texts)
	}
	lo, hi := chartDomain(results)
	if lo != 0.001 || hi != 100 {
		t.Errorf("domain %v..%v, want 0.001..100 (covering 0.004 and 25)", lo, hi)
	}
}

func TestPlanFiltersAndOrders(t *testing.T) {
	rows := []row{{Workload: testWorkload, Params: Params{Records: 10, Size: 1}}, {Workload: testWorkload, Params: Params{Records: 10, Size: 2}}}
	var names []string
	for _, c := range plan(rows, cases, nil) {
		names = append(names, c.Case.Variant)
	}
	if want := []string{"ok", "fails", "ok", "fails", "panics", "hangs"}; !slices.Equal(names, want) {
		t.Errorf("plan = %v, want %v (panics and hangs support only Size 2)", names, want)
	}
	if got := plan(rows, cases, regexp.MustCompile(`^nomatch/`)); len(got) != 0 {
		t.Errorf("-only matching nothing planned %d cells", len(got))
	}
	if got := plan(rows, cases, regexp.MustCompile(`^`+testWorkload+`/fake$`)); len(got) != 6 {
		t.Errorf(`-only "workload/system" planned %d cells, want 6`, len(got))
	}
	cs := []Case{{Workload: AsyncProduce, System: "kfake"}, {Workload: AsyncProduce, System: "eventlog"}}
	got := plan([]row{{Workload: AsyncProduce}}, cs, nil)
	if len(got) != 2 || got[0].Case.System != "eventlog" {
		t.Errorf("eventlog is not the first column: %v", got)
	}
}

func TestSelectRows(t *testing.T) {
	all := workloadTable()
	quick := selectRows(all, true, false)
	for _, r := range quick {
		if r.Big {
			t.Errorf("-quick kept big row %s", r.label())
		}
	}
	if quick[0].Params.Records != all[0].Params.Records/10 {
		t.Errorf("-quick records %d, want %d", quick[0].Params.Records, all[0].Params.Records/10)
	}
	if len(selectRows(all, false, true)) != len(all)-2 || len(selectRows(all, false, false)) != len(all) {
		t.Errorf("-skip-big should drop exactly the idle-partitions and open rows")
	}
	// -quick must not change the table it was given.
	if all[0].Params.Records != workloadTable()[0].Params.Records {
		t.Errorf("selectRows modified its input")
	}
}

func TestRunnerEndToEnd(t *testing.T) {
	tmp := t.TempDir()
	rows := []row{{Workload: testWorkload, Params: Params{Records: 1000, Size: 1}}}
	cells := plan(rows, cases, nil)
	sp := spawner{exe: os.Args[0], tmp: tmp, timeout: time.Minute}
	var progress bytes.Buffer
	runRounds(context.Background(), sp, cells, 2, &progress)

	okCell, failCell := cells[0], cells[1]
	if len(okCell.Runs) != 2 || len(failCell.Runs) != 2 {
		t.Fatalf("runs per cell %d, %d, want 2 rounds each", len(okCell.Runs), len(failCell.Runs))
	}
	for _, r := range okCell.Runs {
		if r.Err != nil {
			t.Fatalf("ok case failed: %v\nstderr: %s", r.Err, r.Stderr)
		}
		if r.Result.Records != 1000 || len(r.Result.Latencies) != 1000 {
			t.Errorf("child result %d records, %d latencies, want 1000 each", r.Result.Records, len(r.Result.Latencies))
		}
		if r.MaxRSS < testRSS {
			t.Errorf("peak RSS %s, want at least the %s the child touched", fmtBytes(float64(r.MaxRSS)), fmtBytes(testRSS))
		}
		if r.Result.Extra["rss_idle"] < testRSS {
			t.Errorf("rssNow in the child = %v, want at least %d", r.Result.Extra["rss_idle"], testRSS)
		}
	}
	for _, r := range failCell.Runs {
		if r.Err == nil || !strings.Contains(r.Err.Error(), "boom: disk on fire") {
			t.Errorf("failing case: err %v, want the case's error", r.Err)
		}
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("run directories left behind: %v", entries)
	}

	rep := newReport(cells, describeMachine(tmp), time.Now(), nil)
	if !rep.failed() {
		t.Errorf("report does not say a run failed")
	}
	var md bytes.Buffer
	rep.write(&md)
	if s := rep.stats[okCell]; s.P50 != 0.5 || s.P99 != 0.99 || s.P999 != 0.999 || s.MaxRSS < testRSS {
		t.Errorf("medians p50 %v, p99 %v, p999 %v, peak RSS %v; want 0.5s, 0.99s, 0.999s, >= 64 MiB", s.P50, s.P99, s.P999, s.MaxRSS)
	}
	if !strings.Contains(md.String(), "boom: disk on fire") {
		t.Errorf("table lacks the failure footnote:\n%s", md.String())
	}
	out := filepath.Join(t.TempDir(), "results")
	if err := rep.save(out); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(out, "chart.svg")); err != nil || fi.Size() == 0 {
		t.Errorf("chart.svg not written: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var saved struct {
		Runs []struct {
			Round   int
			Variant string
			Error   string
			Latency *latencySummary
			PeakRSS int64 `json:"peak_rss_bytes"`
		}
		Medians []cellMedians
		Targets []targetResult
	}
	if err := json.Unmarshal(b, &saved); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if len(saved.Runs) != 4 || len(saved.Medians) != 2 || len(saved.Targets) != len(targets) {
		t.Fatalf("results.json has %d runs, %d medians, %d targets; want 4, 2, %d", len(saved.Runs), len(saved.Medians), len(saved.Targets), len(targets))
	}
	for _, r := range saved.Runs {
		switch r.Variant {
		case "ok":
			if r.Latency == nil || r.Latency.P99 != 990*time.Millisecond || r.PeakRSS < testRSS || r.Error != "" {
				t.Errorf("saved ok run %+v, want its p99 990ms and peak RSS", r)
			}
		case "fails":
			if !strings.Contains(r.Error, "boom") {
				t.Errorf("saved failed run has error %q", r.Error)
			}
		}
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	tb := &tailBuffer{max: 8}
	for _, s := range []string{"hello ", "world", ", error: boom"} {
		tb.Write([]byte(s))
	}
	if got := tb.String(); got != "or: boom" {
		t.Errorf("tail = %q, want the last 8 bytes %q", got, "or: boom")
	}
}

func TestRunnerReportsAPanic(t *testing.T) {
	c, ok := findCase(testWorkload + "/" + testSystem + "/panics")
	if !ok {
		t.Fatal("panics case not registered")
	}
	r := spawner{exe: os.Args[0], tmp: t.TempDir(), timeout: time.Minute}.run(context.Background(), c, Params{Records: 1, Size: 2})
	if r.Err == nil || !strings.Contains(r.Err.Error(), "panic: index out of range in the case") {
		t.Errorf("panicking child: err %v, want the panic message", r.Err)
	}
}

func TestRunnerKillsAtTimeout(t *testing.T) {
	rows := []row{{Workload: testWorkload, Params: Params{Records: 1, Size: 2}}}
	var hang *cell
	for _, c := range plan(rows, cases, nil) {
		if c.Case.Variant == "hangs" {
			hang = c
		}
	}
	sp := spawner{exe: os.Args[0], tmp: t.TempDir(), timeout: 500 * time.Millisecond}
	start := time.Now()
	r := sp.run(context.Background(), hang.Case, hang.params())
	if !r.TimeOut || r.Err == nil || !strings.Contains(r.Err.Error(), "timeout") {
		t.Errorf("hanging child: TimeOut %v, err %v; want killed at the timeout", r.TimeOut, r.Err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %v to take effect", d)
	}
}

func TestDropCacheEvictsTheFiles(t *testing.T) {
	dir := t.TempDir()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err == nil && st.Type == unix.TMPFS_MAGIC {
		t.Skip("tmpfs keeps files in memory")
	}
	path := filepath.Join(dir, "sub", "seg")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), 4*mib), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := residentPages(t, path); n == 0 {
		t.Fatalf("a file just written has no page in the cache; cannot test eviction")
	}
	if err := dropCache(dir); err != nil {
		t.Fatal(err)
	}
	if n := residentPages(t, path); n > 0 {
		t.Errorf("%d pages still cached after dropCache", n)
	}
	if err := dropCache(filepath.Join(dir, "missing")); err == nil {
		t.Errorf("dropCache of a missing directory returned no error")
	}
}

// residentPages counts path's pages in the page cache (mincore(2)).
func residentPages(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

func TestRSSNowSeesTouchedMemory(t *testing.T) {
	before := rssNow()
	if before <= 0 {
		t.Fatalf("rssNow = %d, want > 0", before)
	}
	// Fresh anonymous pages, not Go heap, which may reuse resident memory.
	buf, err := unix.Mmap(-1, 0, 32*mib, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(buf)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	after := rssNow()
	if after-before < 24*mib {
		t.Errorf("RSS grew by %s after touching 32 MiB, want at least 24 MiB", fmtBytes(float64(after-before)))
	}
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"-runs", "1", "-quick", "-only", "replay/", "-timeout", "10s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.runs != 1 || !c.quick || c.only.String() != "replay/" || c.timeout != 10*time.Second || c.out != "results" {
		t.Errorf("parsed %+v", c)
	}
	for _, bad := range [][]string{{"-runs", "0"}, {"-only", "("}, {"extra"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted bad input", bad)
		}
	}
}
