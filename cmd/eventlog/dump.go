package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventlog/eventlog"
	"github.com/eventlog/eventlog/segment"
)

// dumpOpts are the flags of dump.
type dumpOpts struct {
	partition int
	from      int64
	records   bool
}

func newDumpCmd(a *app) *cobra.Command {
	var o dumpOpts
	cmd := &cobra.Command{
		Use:   "dump TOPIC",
		Short: "Print one partition's stored entries with their framing, for debugging",
		Long: `dump prints how one partition is stored: for each segment file (named by
the wal index of its first entry), each entry's byte position, batch length,
CRC32C, format version, first offset, record count, last offset, newest
record time and header count (see segment/FORMAT.md). With --records it
also prints every record: offset, time, key, value and headers, quoted
with Go escapes ("nil" for a nil key or value).

Like verify, dump reads the files without opening the log and changes
nothing; it holds the directory's lock while it reads. It stops a file at
the first entry that is not valid and says why: a torn tail at the end of
the last file (which opening the log cuts off) or damage, which also makes
dump exit with status 3. Internal topics such as __consumer_offsets can be
dumped too.`,
		Example: `  eventlog dump orders -p 2
  eventlog dump orders -p 2 --from 1500 --records
  eventlog dump __consumer_offsets --records`,
		Args: argsBetween(1, 1, "one topic name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.partition < 0 {
				return usageError("--partition %d: partitions are numbered from 0", o.partition)
			}
			if o.from < 0 {
				return usageError("--from %d: offsets are not negative", o.from)
			}
			return dumpRun(a, cmd.OutOrStdout(), args[0], o)
		},
	}
	cmd.Flags().IntVarP(&o.partition, "partition", "p", 0, "partition `N` to dump (default 0)")
	cmd.Flags().Int64Var(&o.from, "from", 0, "skip entries and records before `OFFSET`")
	cmd.Flags().BoolVarP(&o.records, "records", "r", false, "print every record too")
	return cmd
}

func dumpRun(a *app, out io.Writer, topic string, o dumpOpts) (err error) {
	if !verifyName.MatchString(topic) || topic == "." || topic == ".." {
		return usageError("topic %q: %v", topic, eventlog.ErrInvalidName)
	}
	dir, unlock, err := verifyLock(a)
	if err != nil {
		return err
	}
	defer verifyUnlock(unlock, &err)

	tdir := filepath.Join(dir, "topics", topic)
	if _, err := os.Stat(tdir); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("topic %q: %w", topic, eventlog.ErrUnknownTopic)
	}
	n, why, level := verifyTopicConfig(tdir)
	switch {
	case why != "" && level == verifyCorrupt:
		return fmt.Errorf("topic %q: %s: %w", topic, why, eventlog.ErrCorrupt)
	case why != "":
		return fmt.Errorf("topic %q: %s", topic, why)
	case o.partition >= n:
		return usageError("topic %q has %d partitions: no partition %d", topic, n, o.partition)
	}
	pdir := filepath.Join(tdir, strconv.Itoa(o.partition))
	segs, odd, err := verifyListSegments(pdir)
	if err != nil {
		return fmt.Errorf("partition %s/%d: %w", topic, o.partition, err)
	}

	w := bufio.NewWriter(out)
	d := &dumper{dir: dir, w: w, o: o}
	fmt.Fprintf(w, "topic %s partition %d: %d segment files in %s\n", topic, o.partition, len(segs), verifyRel(dir, pdir))
	for _, f := range odd {
		fmt.Fprintf(w, "not a segment: %s: %s\n", verifyRel(dir, f.path), f.why)
		if f.corrupt {
			d.corrupt = append(d.corrupt, verifyRel(dir, f.path)+": "+f.why)
		}
	}
	for k, s := range segs {
		if err := d.file(s, k == len(segs)-1); err != nil {
			w.Flush()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(d.corrupt) > 0 {
		return fmt.Errorf("partition %s/%d: %d damaged files, the first: %s: %w", topic, o.partition, len(d.corrupt), d.corrupt[0], eventlog.ErrCorrupt)
	}
	return nil
}

// dumper prints the files of one partition.
type dumper struct {
	dir     string
	w       io.Writer
	o       dumpOpts
	corrupt []string // what was damaged, for the error
}

// file prints one segment file; last says it is the partition's newest.
func (d *dumper) file(s verifySegment, last bool) error {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return err
	}
	rel := verifyRel(d.dir, s.path)
	res, scanErr := segment.ScanSegment(data)
	ents := verifyEntries(data, res.ValidBytes)
	shown := 0
	for i, e := range ents {
		h := e.header
		if h.FirstOffset+int64(h.Count) <= d.o.from {
			continue
		}
		if shown == 0 {
			d.fileLine(rel, s, len(data))
		}
		shown++
		fmt.Fprintf(d.w, "  pos=%d index=%d len=%d crc=0x%08x version=%d first=%d count=%d last=%d maxtime=%s headers=%d\n",
			e.pos, s.index+uint64(i), len(e.batch), e.crc(), e.version(), h.FirstOffset, h.Count,
			h.FirstOffset+int64(h.Count)-1, dumpTime(h.MaxTime), e.headerCount())
		if d.o.records {
			d.records(rel, e)
		}
	}
	var ce *segment.CorruptError
	problem := ""
	switch {
	case errors.As(scanErr, &ce):
		problem = fmt.Sprintf("CORRUPT at byte %d: %v; the %d bytes from there are not shown", ce.Pos, ce.Err, int64(len(data))-ce.Pos)
		d.corrupt = append(d.corrupt, fmt.Sprintf("%s: byte %d: %v", rel, ce.Pos, ce.Err))
	case scanErr != nil:
		problem = fmt.Sprintf("CORRUPT: %v", scanErr)
		d.corrupt = append(d.corrupt, fmt.Sprintf("%s: %v", rel, scanErr))
	case res.TornBytes > 0 && last:
		problem = fmt.Sprintf("torn tail at byte %d: %d bytes hold no whole entry; opening the log cuts them off", res.ValidBytes, res.TornBytes)
	case res.TornBytes > 0:
		problem = fmt.Sprintf("CORRUPT at byte %d: the sealed segment ends in %d bytes that are no valid entry", res.ValidBytes, res.TornBytes)
		d.corrupt = append(d.corrupt, fmt.Sprintf("%s: byte %d: %d bytes that are no valid entry", rel, res.ValidBytes, res.TornBytes))
	}
	if problem != "" {
		if shown == 0 {
			d.fileLine(rel, s, len(data))
		}
		fmt.Fprintf(d.w, "  %s\n", oneLine(problem))
	} else if len(data) == 0 && d.o.from == 0 {
		d.fileLine(rel, s, 0)
	}
	return nil
}

// fileLine prints the line that starts a file.
func (d *dumper) fileLine(rel string, s verifySegment, size int) {
	fmt.Fprintf(d.w, "file %s: %d bytes, first wal index %d\n", rel, size, s.index)
}

// records prints the records of one entry from the first one at or after
// --from.
func (d *dumper) records(rel string, e verifyEntry) {
	recs, err := segment.DecodeBatch(e.batch)
	if err != nil {
		// The checksum held, so this is a bug in whatever wrote it.
		fmt.Fprintf(d.w, "    CORRUPT: records do not decode: %s\n", oneLine(err.Error()))
		d.corrupt = append(d.corrupt, fmt.Sprintf("%s: byte %d: %v", rel, e.pos, err))
		return
	}
	var b strings.Builder
	for _, r := range recs {
		if r.Offset < d.o.from {
			continue
		}
		b.Reset()
		fmt.Fprintf(&b, "    offset=%d time=%s key=%s value=%s", r.Offset, dumpTime(r.Time), dumpBytes(r.Key), dumpBytes(r.Value))
		if len(r.Headers) > 0 {
			b.WriteString(" headers=[")
			for i, h := range r.Headers {
				if i > 0 {
					b.WriteString(" ")
				}
				b.WriteString(strconv.Quote(h.Key))
				b.WriteString("=")
				b.WriteString(dumpBytes(h.Value))
			}
			b.WriteString("]")
		}
		b.WriteString("\n")
		io.WriteString(d.w, b.String())
	}
}

// dumpBytes quotes a key, value or header value with Go escapes; nil,
// which the log keeps apart from empty, prints as nil.
func dumpBytes(b []byte) string {
	if b == nil {
		return "nil"
	}
	return strconv.Quote(string(b))
}

// dumpTime prints a record time (Unix nanoseconds) in UTC.
func dumpTime(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}
