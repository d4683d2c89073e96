package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// workloadTitles heads each workload's table: what the number is.
var workloadTitles = map[string]string{
	AsyncProduce:   "Async produce: records/s from first send to last acknowledgement · peak RSS",
	SyncProduce:    "Synchronous produce, 100 B, 1 partition: records/s over all goroutines · peak RSS",
	Replay:         "Replay of a reopened log, 100 B records: records/s reading every record once · peak RSS",
	Latency:        "End-to-end latency, 100 B, send call to consumer: p50 / p99 / p999 · peak RSS",
	FanOut:         "Fan-out, eventlog, 100 B: producer records/s while groups tail it · peak RSS",
	IdlePartitions: "Idle partitions: RSS after writing and idling · peak RSS",
	OpenLog:        "Open of a written log: time until every partition can append and read · peak RSS",
}

// column is one system (or system and variant) in a workload's table.
type column struct {
	key      string // header text
	system   string
	variants []string // in first-use order, for the legend
}

// tableWriter renders the markdown tables; it numbers error footnotes.
type tableWriter struct {
	w         io.Writer
	stats     map[*cell]stats
	footnotes []string
}

// writeTables prints one markdown table per workload, in the order cells
// first name them, followed by the error footnotes.
func writeTables(w io.Writer, cells []*cell, st map[*cell]stats) {
	tw := &tableWriter{w: w, stats: st}
	var workloads []string
	for _, c := range cells {
		if !slices.Contains(workloads, c.Row.Workload) {
			workloads = append(workloads, c.Row.Workload)
		}
	}
	for _, wl := range workloads {
		var wc []*cell
		for _, c := range cells {
			if c.Row.Workload == wl {
				wc = append(wc, c)
			}
		}
		tw.workload(wl, wc)
	}
	if len(tw.footnotes) > 0 {
		fmt.Fprintln(w, "Errors:")
		fmt.Fprintln(w)
		for i, f := range tw.footnotes {
			fmt.Fprintf(w, "%d. %s\n", i+1, f)
		}
		fmt.Fprintln(w)
	}
}

// columnsOf returns the workload's columns and which column each cell is
// in. A system gets one column unless it has two cases on one row; then
// each of its variants gets its own.
func columnsOf(cells []*cell) ([]*column, map[*cell]*column) {
	split := map[string]bool{}
	seen := map[string]bool{}
	for _, c := range cells {
		k := c.Row.key() + "\x00" + c.Case.System
		if seen[k] {
			split[c.Case.System] = true
		}
		seen[k] = true
	}
	var cols []*column
	byKey := map[string]*column{}
	of := map[*cell]*column{}
	for _, c := range cells {
		key := c.Case.System
		if split[key] {
			key += " (" + c.Case.Variant + ")"
		}
		col := byKey[key]
		if col == nil {
			col = &column{key: key, system: c.Case.System}
			byKey[key] = col
			cols = append(cols, col)
		}
		if !slices.Contains(col.variants, c.Case.Variant) {
			col.variants = append(col.variants, c.Case.Variant)
		}
		of[c] = col
	}
	slices.SortStableFunc(cols, func(a, b *column) int { return systemRank(a.system) - systemRank(b.system) })
	return cols, of
}

func (tw *tableWriter) workload(wl string, cells []*cell) {
	w := tw.w
	m := cells[0].Row.metric()
	cols, colOf := columnsOf(cells)
	var base *column // eventlog's column, if there is exactly one
	var others []*column
	for _, col := range cols {
		if col.system == "eventlog" && base == nil {
			base = col
			continue
		}
		others = append(others, col)
	}
	if base == nil {
		others = nil // no ratios without eventlog
	}

	title := workloadTitles[wl]
	if title == "" {
		title = wl
	}
	fmt.Fprintf(w, "### %s\n\n%s\n\n", wl, title)
	head := []string{"params"}
	for _, col := range cols {
		head = append(head, col.key)
	}
	for _, col := range others {
		head = append(head, "eventlog ÷ "+col.key)
	}
	writeRow(w, head)
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = "---"
		if i > 0 {
			sep[i] = "--:"
		}
	}
	writeRow(w, sep)

	var rowKeys []string
	byRow := map[string]map[*column]*cell{}
	labels := map[string]string{}
	for _, c := range cells {
		k := c.Row.key()
		if byRow[k] == nil {
			byRow[k] = map[*column]*cell{}
			rowKeys = append(rowKeys, k)
			labels[k] = c.Row.label()
		}
		byRow[k][colOf[c]] = c
	}
	for _, k := range rowKeys {
		line := []string{labels[k]}
		for _, col := range cols {
			line = append(line, tw.cellText(byRow[k][col], m))
		}
		for _, col := range others {
			line = append(line, tw.ratioText(byRow[k][base], byRow[k][col], m))
		}
		writeRow(w, line)
	}
	fmt.Fprintln(w)
	// The legend says what durability each figure had.
	for _, col := range cols {
		fmt.Fprintf(w, "- %s: %s\n", col.key, strings.Join(col.variants, "; "))
	}
	// Extra figures a case reported, beyond the one in its cell.
	for _, c := range cells {
		if e := extraText(tw.stats[c], m); e != "" {
			fmt.Fprintf(w, "- %s, %s: %s\n", c.Row.label(), c.Case.System, e)
		}
	}
	fmt.Fprintln(w)
}

// extraText lists a cell's median Extra values, sorted by name, leaving out
// rss_idle where the cell already shows it.
func extraText(s stats, m metric) string {
	var keys []string
	for k := range s.Extra {
		if m == idleRSS && k == "rss_idle" {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+" "+fmtExtra(k, s.Extra[k]))
	}
	return strings.Join(parts, ", ")
}

// fmtExtra prints an Extra value by its name's convention: "_s" seconds,
// "rss"/"bytes" bytes, anything else as a number.
func fmtExtra(name string, v float64) string {
	switch {
	case strings.HasSuffix(name, "_s"):
		return fmtSeconds(v)
	case strings.HasPrefix(name, "rss") || strings.Contains(name, "bytes"):
		return fmtBytes(v)
	}
	return fmt.Sprintf("%g", v)
}

// cellText is a table cell: the metric, then peak RSS; "error (n)" with a
// footnote if every round failed; "—" if the system did not run this row.
func (tw *tableWriter) cellText(c *cell, m metric) string {
	if c == nil {
		return "—"
	}
	s := tw.stats[c]
	note := ""
	if s.Failed > 0 {
		tw.footnotes = append(tw.footnotes, fmt.Sprintf("%s, %s, %s (%s): %s",
			c.Row.Workload, c.Row.label(), c.Case.System, c.Case.Variant, strings.Join(s.Failures, "; ")))
		note = fmt.Sprintf(" (error %d)", len(tw.footnotes))
	}
	if s.OK == 0 {
		return strings.TrimSpace(fmt.Sprintf("error%s", note))
	}
	var v string
	switch m {
	case latency:
		if !s.Latency {
			v = "no latencies"
			break
		}
		v = fmt.Sprintf("%s / %s / %s", fmtSeconds(s.P50), fmtSeconds(s.P99), fmtSeconds(s.P999))
	case idleRSS:
		v = fmtBytes(s.value(idleRSS)) + " idle"
	case elapsed:
		v = fmtSeconds(s.Elapsed)
	default:
		v = fmtRate(s.Rate)
	}
	return v + " · " + fmtBytes(s.MaxRSS) + note
}

// ratioText is eventlog ÷ other for the row, "—" if either is missing.
func (tw *tableWriter) ratioText(el, other *cell, m metric) string {
	if el == nil || other == nil {
		return "—"
	}
	r, r99 := ratio(tw.stats[el], tw.stats[other], m)
	if math.IsNaN(r) {
		return "—"
	}
	if m == latency && !math.IsNaN(r99) {
		return fmt.Sprintf("p50 %s · p99 %s", fmtRatio(r), fmtRatio(r99))
	}
	return fmtRatio(r)
}

func writeRow(w io.Writer, cells []string) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
}

// fmtRatio prints a ratio with two or three significant digits: 0.004x,
// 0.85x, 12.3x, 408x.
func fmtRatio(r float64) string {
	switch {
	case math.IsNaN(r):
		return "—"
	case r >= 100:
		return fmt.Sprintf("%.0fx", r)
	case r >= 10:
		return fmt.Sprintf("%.1fx", r)
	case r >= 0.1:
		return fmt.Sprintf("%.2fx", r)
	default:
		return strconv.FormatFloat(r, 'g', 2, 64) + "x"
	}
}

// fmtRate prints records per second with three significant digits:
// 1.23M/s, 456k/s, 1.08k/s, 789/s.
func fmtRate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM/s", r/1e6)
	case r >= 1e3:
		return trim3(r/1e3) + "k/s"
	default:
		return fmt.Sprintf("%.0f/s", r)
	}
}

// fmtSeconds prints a duration with three significant digits.
func fmtSeconds(sec float64) string {
	switch {
	case sec >= 0.9995:
		return fmt.Sprintf("%.2fs", sec)
	case sec >= 0.9995e-3:
		return trim3(sec*1e3) + "ms"
	default:
		return trim3(sec*1e6) + "µs"
	}
}

// trim3 prints v >= 0 with three significant digits (more above 1000),
// choosing the precision after rounding, so 9.9996 prints as 10.0.
func trim3(v float64) string {
	switch {
	case v >= 99.95:
		return fmt.Sprintf("%.0f", v)
	case v >= 9.995:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// fmtBytes prints bytes in MiB (KiB below 1 MiB).
func fmtBytes(b float64) string {
	if b < mib {
		return fmt.Sprintf("%.0f KiB", b/1024)
	}
	return trim3(b/mib) + " MiB"
}

// bytesLabel prints a data size for row labels: 10 MiB, 128 MiB, 1 GiB.
func bytesLabel(b float64) string {
	switch {
	case b >= 1<<30 && math.Mod(b, 1<<30) == 0:
		return fmt.Sprintf("%.0f GiB", b/(1<<30))
	case b >= mib && math.Mod(b, mib) == 0:
		return fmt.Sprintf("%.0f MiB", b/mib)
	}
	return fmtBytes(b)
}
