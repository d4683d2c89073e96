package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
)

// Chart geometry, in SVG user units (pixels at 100% zoom).
const (
	chartWidth  = 900
	labelRight  = 330 // right edge of the target labels
	plotLeft    = 340
	plotRight   = 690
	textLeft    = 700 // measured ratio, requirement and verdict
	rowHeight   = 26
	chartTop    = 78
	chartBottom = 52
)

// Colours: PASS green, MISS red, n/a grey; threshold ticks are black.
const (
	passColour = "#2e7d32"
	missColour = "#c62828"
	naColour   = "#9e9e9e"
)

// writeChart draws the targets as a horizontal bar chart on a log scale:
// each bar runs from 1x to the measured ratio, coloured by PASS/MISS, with
// a black tick at the required ratio. subtitle says where the figures come
// from. The SVG is self-contained (no fonts, scripts or links).
func writeChart(w io.Writer, results []targetResult, subtitle string) error {
	lo, hi := chartDomain(results)
	x := func(v float64) float64 {
		v = math.Min(math.Max(v, lo), hi)
		return plotLeft + (math.Log10(v)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))*(plotRight-plotLeft)
	}
	height := chartTop + len(results)*rowHeight + chartBottom
	plotBottom := chartTop + len(results)*rowHeight

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", chartWidth, height)
	fmt.Fprintf(&b, `<text x="12" y="24" font-size="16" font-weight="bold">%s</text>`+"\n",
		esc("eventlog: issue 4 targets, measured ratio (bar) vs required (black tick), log scale"))
	fmt.Fprintf(&b, `<text x="12" y="42" fill="#555555">%s</text>`+"\n",
		esc("Each ratio is eventlog ÷ the system named, unless the label says otherwise. Green: target met; red: missed."))
	fmt.Fprintf(&b, `<text x="12" y="58" fill="#555555" font-size="11">%s</text>`+"\n", esc(subtitle))

	// Decade grid lines, with a heavier line at 1x where the bars start.
	for e := math.Round(math.Log10(lo)); e <= math.Round(math.Log10(hi)); e++ {
		d := math.Pow(10, e)
		stroke, sw := "#dddddd", 1
		if e == 0 {
			stroke, sw = "#888888", 2
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="%d"/>`+"\n",
			x(d), chartTop-6, x(d), plotBottom, stroke, sw)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555555">%s</text>`+"\n",
			x(d), plotBottom+16, esc(decadeLabel(d)))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#555555">%s</text>`+"\n",
		(plotLeft+plotRight)/2, plotBottom+34, esc("ratio (log scale); bars start at 1x"))

	for i, r := range results {
		top := chartTop + i*rowHeight
		mid := top + rowHeight/2
		if i%2 == 1 {
			fmt.Fprintf(&b, `<rect x="0" y="%d" width="%d" height="%d" fill="#f5f5f5" fill-opacity="0.6"/>`+"\n",
				top, chartWidth, rowHeight)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelRight, mid+4, esc(r.Label))
		colour := naColour
		switch r.Status {
		case "PASS":
			colour = passColour
		case "MISS":
			colour = missColour
		}
		var verdict string
		if r.Status == "n/a" {
			verdict = "not run (need " + r.needText() + ")"
		} else {
			x0, x1 := x(1), x(r.Measured)
			if x1 < x0 {
				x0, x1 = x1, x0
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n",
				x0, top+6, math.Max(x1-x0, 1), rowHeight-12, colour)
			verdict = fmt.Sprintf("%s (need %s) %s", fmtRatio(r.Measured), r.needText(), r.Status)
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#000000" stroke-width="2"/>`+"\n",
			x(r.Need), top+2, x(r.Need), top+rowHeight-2)
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s" font-weight="bold">%s</text>`+"\n", textLeft, mid+4, colour, esc(verdict))
	}
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// chartDomain is the log axis range: whole decades covering every measured
// and required ratio, and at least 0.1x to 10x.
func chartDomain(results []targetResult) (lo, hi float64) {
	lo, hi = 0.1, 10
	for _, r := range results {
		vals := []float64{r.Need}
		if r.Status != "n/a" && r.Measured > 0 {
			vals = append(vals, r.Measured)
		}
		for _, v := range vals {
			lo = math.Min(lo, math.Pow(10, math.Floor(math.Log10(v))))
			hi = math.Max(hi, math.Pow(10, math.Ceil(math.Log10(v))))
		}
	}
	return lo, hi
}

func decadeLabel(d float64) string {
	if d >= 1 {
		return fmt.Sprintf("%.0fx", d)
	}
	return fmt.Sprintf("%gx", d)
}

// esc escapes text for an SVG text node or attribute.
func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
