package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/eventlog/eventlog/segment"
)

// verifyLevel says how bad a finding is.
type verifyLevel int

const (
	// verifyWarning is something opening the log repairs or ignores, such
	// as a torn tail: worth knowing, not damage.
	verifyWarning verifyLevel = iota
	// verifyCorrupt is damage: opening the log fails over it, or records
	// cannot be read.
	verifyCorrupt
	// verifyUnreadable is a file or directory that could not be read.
	verifyUnreadable
)

func (l verifyLevel) String() string {
	switch l {
	case verifyWarning:
		return "WARNING"
	case verifyCorrupt:
		return "CORRUPT"
	}
	return "UNREADABLE"
}

// verifyFinding is one problem found.
type verifyFinding struct {
	level  verifyLevel
	file   string // relative to the data directory; "" if none
	pos    int64  // byte position in file; -1 if none
	offset int64  // first record offset affected; -1 if unknown
	msg    string
}

// String is the finding's line in verify's report, such as
//
//	CORRUPT topics/orders/0/00000000000000000001: byte 1234, offset 56: checksum mismatch
func (f verifyFinding) String() string {
	var b strings.Builder
	b.WriteString(f.level.String())
	b.WriteString(" ")
	b.WriteString(f.file)
	if f.pos >= 0 {
		fmt.Fprintf(&b, ": byte %d", f.pos)
	}
	if f.offset >= 0 {
		if f.pos >= 0 {
			b.WriteString(",")
		} else {
			b.WriteString(":")
		}
		fmt.Fprintf(&b, " offset %d", f.offset)
	}
	b.WriteString(": ")
	b.WriteString(oneLine(f.msg))
	return b.String()
}

// verifyCounts is what verify has checked.
type verifyCounts struct {
	topics, partitions, files, entries, records, bytes int64
}

// verifyProgress is the progress bar, by bytes read.
type verifyProgress interface {
	Add64(n int64) error
	Clear() error
	Finish() error
}

// verifier checks the files of one data directory and reports what it
// finds as it goes.
type verifier struct {
	dir     string
	out     io.Writer
	verbose bool
	bar     verifyProgress // nil: none

	counts verifyCounts
	found  [3]int            // findings by level
	first  [3]*verifyFinding // the first finding of each level
}

// report prints a finding and counts it.
func (v *verifier) report(f verifyFinding) {
	v.found[f.level]++
	if v.first[f.level] == nil {
		v.first[f.level] = &f
	}
	v.println(f.String())
}

// println writes a line of the report, clearing the progress bar first
// so the two do not mix on one terminal.
func (v *verifier) println(s string) {
	if v.bar != nil {
		v.bar.Clear()
	}
	fmt.Fprintln(v.out, s)
}

// problem reports a finding about a file, with position and offset.
func (v *verifier) problem(level verifyLevel, path string, pos, offset int64, format string, args ...any) {
	// The segment package ends its messages with its ErrCorrupt's text;
	// the level says as much already.
	msg := strings.TrimSuffix(fmt.Sprintf(format, args...), ": "+segment.ErrCorrupt.Error())
	v.report(verifyFinding{level: level, file: verifyRel(v.dir, path), pos: pos, offset: offset, msg: msg})
}

// verifyPart is one partition to check: its directory and its files.
type verifyPart struct {
	topic string
	id    int
	dir   string
	segs  []verifySegment
	odd   []verifyOdd
}

// partition checks every entry of every segment file of one partition: the
// framing, the checksum and record encoding of every batch, that offsets
// continue from entry to entry and from file to file, and that each file
// holds as many entries as the name of the next one implies. It reports
// the last file's torn tail, if any, as opening the log would cut it.
func (v *verifier) partition(p verifyPart) {
	v.counts.partitions++
	for _, o := range p.odd {
		level := verifyWarning
		if o.corrupt {
			level = verifyCorrupt
		}
		v.problem(level, o.path, -1, -1, "%s", o.why)
	}
	if len(p.segs) == 0 {
		v.problem(verifyWarning, p.dir, -1, -1, "no segment files: opening the log starts the partition empty, at offset 0")
	}
	before := v.counts
	next := int64(-1) // where the next file must start; -1 if unknown
	first := int64(-1)
	for k, s := range p.segs {
		last := k == len(p.segs)-1
		data, err := os.ReadFile(s.path)
		if v.bar != nil {
			v.bar.Add64(s.size)
		}
		if err != nil {
			v.problem(verifyUnreadable, s.path, -1, -1, "%v", verifyCause(err))
			next = -1
			continue
		}
		v.counts.files++
		v.counts.bytes += int64(len(data))
		if len(data) == 0 {
			switch {
			case !last:
				v.problem(verifyCorrupt, s.path, 0, -1, "zero-length segment file before the last one")
			case len(p.segs) == 1 && s.index != 1:
				v.problem(verifyCorrupt, s.path, 0, -1, "the only segment file is empty but does not start the log, so its offsets are unknown")
			}
			continue // an empty last file: a new log, or a new file after a roll
		}

		res, scanErr := segment.ScanSegment(data)
		ents := verifyEntries(data, res.ValidBytes)
		if len(ents) > 0 {
			fo := ents[0].header.FirstOffset
			if next >= 0 && fo != next {
				v.problem(verifyCorrupt, s.path, 0, fo,
					"starts at offset %d, but %s before it ends at offset %d: offsets do not continue across files",
					fo, filepath.Base(p.segs[k-1].path), next)
			}
			if first < 0 {
				first = fo
			}
		}
		for _, e := range ents {
			v.counts.entries++
			recs, err := segment.DecodeBatch(e.batch)
			if err != nil {
				v.problem(verifyCorrupt, s.path, e.pos, e.header.FirstOffset, "its checksum holds but its records do not decode: %v", err)
				continue
			}
			v.counts.records += int64(len(recs))
		}
		next = -1
		if n := len(ents); n > 0 {
			next = ents[n-1].header.FirstOffset + int64(ents[n-1].header.Count)
		}

		var ce *segment.CorruptError
		switch {
		case errors.As(scanErr, &ce):
			v.problem(verifyCorrupt, s.path, ce.Pos, ce.Offset, "%v", ce.Err)
			next = -1
		case scanErr != nil:
			v.problem(verifyCorrupt, s.path, -1, -1, "%v", scanErr)
			next = -1
		case res.TornBytes > 0 && last:
			v.problem(verifyWarning, s.path, res.ValidBytes, next,
				"torn tail: the last %d bytes hold no whole entry (a write cut short by a crash, never acknowledged); opening the log cuts them off",
				res.TornBytes)
		case res.TornBytes > 0:
			v.problem(verifyCorrupt, s.path, res.ValidBytes, next,
				"sealed segment ends in %d bytes that are no valid entry", res.TornBytes)
			next = -1
		case !last && uint64(res.Entries) != p.segs[k+1].index-s.index:
			v.problem(verifyCorrupt, s.path, -1, -1, "holds %d entries; the name of the next file, %s, implies %d",
				res.Entries, filepath.Base(p.segs[k+1].path), p.segs[k+1].index-s.index)
		}
	}
	if v.verbose {
		span := "no records"
		if first >= 0 && next >= 0 {
			span = fmt.Sprintf("offsets %d..%d", first, next-1)
		}
		v.println(fmt.Sprintf("%s/%d: %d files, %d entries, %d records, %s, %s", p.topic, p.id,
			v.counts.files-before.files, v.counts.entries-before.entries, v.counts.records-before.records,
			formatBytes(v.counts.bytes-before.bytes), span))
	}
}
