// Command bench compares eventlog with what a user would pick instead (raw
// tidwall/wal, embedded NATS JetStream, Watermill's GoChannel, franz-go's
// kfake) on the same workloads, and checks the targets of issue 4.
//
//	cd bench && go run .            # every row, 3 rounds, ~10 minutes
//	go run . -quick -runs 1         # a smoke run
//
// Each case runs in a child process of its own (the same binary,
// re-executed), so peak RSS is that case's alone. Rounds are interleaved:
// round 1 runs every row on every system, then round 2, and so on. The
// program prints markdown tables of the medians and the target verdicts,
// and writes results.json and chart.svg. See README.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"syscall"
	"time"
)

func main() {
	if isChild(os.Args) {
		os.Exit(childMain(os.Args[2:]))
	}
	os.Exit(parentMain(os.Args[1:], os.Stdout, os.Stderr))
}

// config is the parsed command line.
type config struct {
	runs    int
	quick   bool
	only    *regexp.Regexp
	skipBig bool
	out     string
	tmp     string
	timeout time.Duration
	list    bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.runs, "runs", 3, "rounds; each cell's figure is the median over them")
	fs.BoolVar(&c.quick, "quick", false, "divide record counts by 10 and skip the idle-partitions and open rows")
	only := fs.String("only", "", `run only the cells whose "workload/system" matches this regexp`)
	fs.BoolVar(&c.skipBig, "skip-big", false, "skip the idle-partitions and open rows (they write 10 GiB and 1 GiB)")
	fs.StringVar(&c.out, "out", "results", "directory for results.json and chart.svg")
	fs.StringVar(&c.tmp, "tmp", os.TempDir(), "directory under which each run gets a fresh, removed-after directory")
	fs.DurationVar(&c.timeout, "timeout", 3*time.Minute, "kill a run after this long and mark it failed")
	fs.BoolVar(&c.list, "list", false, "print the rows and the cases that would run, then exit")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: go run . [flags]   (from bench/; see README.md)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.runs < 1 {
		return c, fmt.Errorf("-runs %d: need at least 1", c.runs)
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return c, fmt.Errorf("-only: %w", err)
		}
		c.only = re
	}
	return c, nil
}

// parentMain runs the comparison and returns the exit code: 0, or 1 if
// any run failed (the tables and files are still written), 2 for usage.
func parentMain(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if err != flag.ErrHelp {
			fmt.Fprintln(stderr, "bench:", err)
		}
		return 2
	}
	cells := plan(selectRows(workloadTable(), cfg.quick, cfg.skipBig), cases, cfg.only)
	if cfg.list {
		listCells(stdout, cells)
		return 0
	}
	if len(cells) == 0 {
		fmt.Fprintln(stderr, "bench: no case matches; try -list")
		return 2
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	started := time.Now()
	sp := spawner{exe: exe, tmp: cfg.tmp, timeout: cfg.timeout}
	runRounds(ctx, sp, cells, cfg.runs, stderr)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "bench: interrupted")
		return 1
	}
	rep := newReport(cells, describeMachine(cfg.tmp), started, args)
	rep.write(stdout)
	if err := rep.save(cfg.out); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	fmt.Fprintf(stderr, "wrote %s and %s\n", filepath.Join(cfg.out, "results.json"), filepath.Join(cfg.out, "chart.svg"))
	if rep.failed() {
		return 1
	}
	return 0
}

// runRounds runs every cell once per round, round after round, logging
// each run's outcome to progress. It stops early if ctx ends.
func runRounds(ctx context.Context, sp spawner, cells []*cell, rounds int, progress io.Writer) {
	total := rounds * len(cells)
	n := 0
	for round := 1; round <= rounds; round++ {
		for _, c := range cells {
			if ctx.Err() != nil {
				return
			}
			n++
			r := sp.run(ctx, c.Case, c.params())
			c.Runs = append(c.Runs, roundRun{Round: round, childRun: r})
			status := fmt.Sprintf("%s in %s, peak RSS %s",
				fmtRate(float64(r.Result.Records)/r.Result.Elapsed.Seconds()), fmtSeconds(r.Result.Elapsed.Seconds()), fmtBytes(float64(r.MaxRSS)))
			if r.Err != nil {
				status = "FAILED: " + r.Err.Error()
			}
			fmt.Fprintf(progress, "[%d/%d] round %d  %s (%s)  %s (%s): %s\n",
				n, total, round, c.Row.Workload, c.Row.label(), c.Case.System, c.Case.Variant, status)
		}
	}
}

// listCells prints what -list shows: each row and the cases that run it.
func listCells(w io.Writer, cells []*cell) {
	last := ""
	for _, c := range cells {
		if k := c.Row.key(); k != last {
			fmt.Fprintf(w, "%s: %s\n", c.Row.Workload, c.Row.label())
			last = k
		}
		fmt.Fprintf(w, "    %-10s %-40s records=%d\n", c.Case.System, c.Case.Variant, c.params().Records)
	}
}

// report is one comparison's outcome.
type report struct {
	Machine machine        `json:"machine"`
	Started time.Time      `json:"started"`
	Args    []string       `json:"args"`
	Runs    []runRecord    `json:"runs"`
	Medians []cellMedians  `json:"medians"`
	Targets []targetResult `json:"targets"`

	cells []*cell
	stats map[*cell]stats
}

// runRecord is one child run in results.json: the raw result, with the
// latencies summarized rather than listed.
type runRecord struct {
	Round         int                `json:"round"`
	Workload      string             `json:"workload"`
	Row           string             `json:"row"`
	System        string             `json:"system"`
	Variant       string             `json:"variant"`
	Params        Params             `json:"params"`
	Records       int                `json:"records"`
	ElapsedNS     time.Duration      `json:"elapsed_ns"`
	RecordsPerSec float64            `json:"records_per_sec"`
	Latency       *latencySummary    `json:"latency,omitempty"`
	Extra         map[string]float64 `json:"extra,omitempty"`
	PeakRSS       int64              `json:"peak_rss_bytes"`
	WallNS        time.Duration      `json:"wall_ns"`
	Error         string             `json:"error,omitempty"`
}

// cellMedians is one cell's figures as the tables show them, in
// results.json. Seconds and bytes; zero where a figure does not apply.
type cellMedians struct {
	Workload      string             `json:"workload"`
	Row           string             `json:"row"`
	System        string             `json:"system"`
	Variant       string             `json:"variant"`
	OK            int                `json:"rounds_ok"`
	Failed        int                `json:"rounds_failed"`
	RecordsPerSec float64            `json:"records_per_sec"`
	Elapsed       float64            `json:"elapsed_s"`
	P50           float64            `json:"p50_s,omitempty"`
	P99           float64            `json:"p99_s,omitempty"`
	P999          float64            `json:"p999_s,omitempty"`
	PeakRSS       float64            `json:"peak_rss_bytes"`
	Extra         map[string]float64 `json:"extra,omitempty"`
}

func newReport(cells []*cell, m machine, started time.Time, args []string) *report {
	rep := &report{Machine: m, Started: started, Args: args, cells: cells, stats: map[*cell]stats{}}
	for _, c := range cells {
		s := summarizeCell(c)
		rep.stats[c] = s
		rep.Medians = append(rep.Medians, cellMedians{Workload: c.Row.Workload, Row: c.Row.label(),
			System: c.Case.System, Variant: c.Case.Variant, OK: s.OK, Failed: s.Failed,
			RecordsPerSec: s.Rate, Elapsed: s.Elapsed, P50: s.P50, P99: s.P99, P999: s.P999,
			PeakRSS: s.MaxRSS, Extra: s.Extra})
		for _, r := range c.Runs {
			rr := runRecord{Round: r.Round, Workload: c.Row.Workload, Row: c.Row.label(),
				System: c.Case.System, Variant: c.Case.Variant, Params: c.params(),
				Records: r.Result.Records, ElapsedNS: r.Result.Elapsed, Extra: r.Result.Extra,
				PeakRSS: r.MaxRSS, WallNS: r.Wall}
			if r.Err != nil {
				rr.Error = r.Err.Error()
			} else {
				rr.RecordsPerSec = float64(r.Result.Records) / r.Result.Elapsed.Seconds()
			}
			if len(r.Result.Latencies) > 0 {
				ls := summarize(r.Result.Latencies)
				rr.Latency = &ls
			}
			rep.Runs = append(rep.Runs, rr)
		}
	}
	rep.Targets = evaluate(targets, rep.find)
	return rep
}

// find is the report's finder: the first cell of system on the row.
func (rep *report) find(workload string, p Params, system string) (stats, bool) {
	key := rowKey(workload, p)
	for _, c := range rep.cells {
		if c.Row.key() == key && c.Case.System == system {
			s := rep.stats[c]
			return s, s.OK > 0
		}
	}
	return stats{}, false
}

// failed reports whether any run failed.
func (rep *report) failed() bool {
	for _, r := range rep.Runs {
		if r.Error != "" {
			return true
		}
	}
	return false
}

// write prints the markdown: machine, tables, targets.
func (rep *report) write(w io.Writer) {
	rounds := 0
	for _, c := range rep.cells {
		rounds = max(rounds, len(c.Runs))
	}
	fmt.Fprintf(w, "## eventlog comparison, %s\n\n", rep.Started.Format("2006-01-02"))
	fmt.Fprintf(w, "Machine: %s. Medians of %s; each run in a fresh process.\n\n", rep.Machine, plural(rounds, "round"))
	writeTables(w, rep.cells, rep.stats)
	fmt.Fprintf(w, "### Targets (issue 4)\n\n")
	writeRow(w, []string{"target", "measured", "required", "from", "result"})
	writeRow(w, []string{"---", "--:", "--:", "---", "---"})
	for _, t := range rep.Targets {
		measured, from := "—", "not measured"
		if t.Status != "n/a" {
			measured, from = fmtRatio(t.Measured), t.Detail
		}
		writeRow(w, []string{t.Name, measured, t.needText(), from, t.Status})
	}
	fmt.Fprintln(w)
}

// save writes results.json and chart.svg into dir.
func (rep *report) save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("make output directory: %w", err)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "chart.svg"))
	if err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	sub := fmt.Sprintf("%s; %s", rep.Started.Format("2006-01-02"), rep.Machine)
	if err := writeChart(f, rep.Targets, sub); err != nil {
		f.Close()
		return fmt.Errorf("write chart: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	return nil
}
