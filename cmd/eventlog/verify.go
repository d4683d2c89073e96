package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/eventlog/eventlog"
)

func newVerifyCmd(a *app) *cobra.Command {
	var quiet, verbose bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check every record of every partition for damage",
		Long: `verify reads every segment file of every partition of every topic,
including the internal __consumer_offsets, and checks each entry: its
framing, its CRC32C checksum, the encoding of its records, and that offsets
continue from entry to entry and from file to file. It changes nothing: it
reads the files itself rather than opening the log (which would cut a torn
tail off), holding the directory's lock so that no program writes
meanwhile.

Each problem is one line on stdout, with the file (relative to the data
directory), the byte position in it and the first record offset affected:

  CORRUPT  damage: opening the log fails over it, or records cannot be
           read. verify exits with status 3.
  WARNING  something opening the log repairs or ignores: a torn tail (the
           end of a write a crash cut short, never acknowledged), a file
           that is not a segment, leftovers of an interrupted operation.
           verify exits with status 0.

A summary line ends the report: partitions, files, entries, records and
bytes checked. While it runs, verify shows a progress bar on stderr if
stderr is a terminal. -q prints only the problems; -v adds a line per
partition.`,
		Example: `  eventlog verify --dir /var/lib/myapp/events
  EVENTLOG_DIR=/var/lib/myapp/events eventlog verify -q || echo "damaged"`,
		Args: argsBetween(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var bar func(total int64) verifyProgress
			if !quiet {
				bar = func(total int64) verifyProgress { return verifyNewBar(cmd.ErrOrStderr(), total) }
			}
			return verifyRun(a, cmd.OutOrStdout(), bar, quiet, verbose)
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the problems: no summary, no progress bar")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print a line per partition")
	return cmd
}

// verifyRun checks the data directory. bar, if not nil, makes the progress
// bar for a given total of bytes (and may return nil for none).
func verifyRun(a *app, out io.Writer, bar func(total int64) verifyProgress, quiet, verbose bool) (err error) {
	dir, unlock, err := verifyLock(a)
	if err != nil {
		return err
	}
	defer verifyUnlock(unlock, &err)

	v := &verifier{dir: dir, out: out, verbose: verbose && !quiet}
	steps, err := verifyPlan(dir)
	if err != nil {
		return err
	}
	var total int64
	for _, s := range steps {
		if s.part != nil {
			for _, f := range s.part.segs {
				total += f.size
			}
		}
	}
	if bar != nil && total > 0 {
		v.bar = bar(total)
	}
	for _, s := range steps {
		switch {
		case s.part != nil:
			v.partition(*s.part)
		case s.topic != "":
			v.counts.topics++
		default:
			v.report(s.finding)
		}
	}
	if v.bar != nil {
		v.bar.Finish()
		v.bar.Clear()
	}
	if !quiet {
		c := v.counts
		fmt.Fprintf(out, "checked %d topics, %d partitions, %d files, %d entries, %d records, %s (%d bytes): %s\n",
			c.topics, c.partitions, c.files, c.entries, c.records, formatBytes(c.bytes), c.bytes, v.verdict())
	}
	return v.err()
}

// verdict sums up the findings for the summary line.
func (v *verifier) verdict() string {
	if v.found == [3]int{} {
		return "no problems"
	}
	var parts []string
	if n := v.found[verifyCorrupt]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d corrupt", n))
	}
	if n := v.found[verifyUnreadable]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d unreadable", n))
	}
	if n := v.found[verifyWarning]; n > 0 {
		parts = append(parts, verifyPlural(n, "warning"))
	}
	return strings.Join(parts, ", ")
}

// err is verify's result: an error matching eventlog.ErrCorrupt (exit
// status 3) if it found damage, another error if files were unreadable,
// nil if there were only warnings.
func (v *verifier) err() error {
	if f := v.first[verifyCorrupt]; f != nil {
		return fmt.Errorf("verify %s: found %s, the first: %s: %w",
			v.dir, verifyPlural(v.found[verifyCorrupt]+v.found[verifyUnreadable], "problem"), f, eventlog.ErrCorrupt)
	}
	if f := v.first[verifyUnreadable]; f != nil {
		return fmt.Errorf("verify %s: could not read %s, the first: %s",
			v.dir, verifyPlural(v.found[verifyUnreadable], "file or directory"), f)
	}
	return nil
}

// verifyPlural writes a count of things: "1 warning", "2 warnings".
func verifyPlural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	if strings.HasSuffix(thing, "directory") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(thing, "y"))
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// verifyStep is one step of verify, in report order: a finding about the
// layout, a topic to count, or a partition to check.
type verifyStep struct {
	finding verifyFinding
	topic   string
	part    *verifyPart
}

// verifyName matches the names eventlog gives topics (topic.go).
var verifyName = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// verifyPlan lists what verify is to check: the topics of dir, each with
// its partitions and their files, and what does not belong, as the Log
// would see it when opening dir (log.go, topic.go).
func verifyPlan(dir string) ([]verifyStep, error) {
	var steps []verifyStep
	warn := func(level verifyLevel, path, format string, args ...any) {
		steps = append(steps, verifyStep{finding: verifyFinding{level: level, file: verifyRel(dir, path), pos: -1, offset: -1,
			msg: fmt.Sprintf(format, args...)}})
	}
	if _, err := os.Stat(filepath.Join(dir, "trash")); err == nil {
		warn(verifyWarning, filepath.Join(dir, "trash"), "deleted topics not yet removed; opening the log removes them (not checked)")
	}
	topicsDir := filepath.Join(dir, "topics")
	ents, err := os.ReadDir(topicsDir)
	if errors.Is(err, fs.ErrNotExist) {
		warn(verifyWarning, topicsDir, "missing: no log has been opened in this directory")
		return steps, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", topicsDir, err)
	}
	for _, e := range ents {
		name, path := e.Name(), filepath.Join(topicsDir, e.Name())
		if !e.IsDir() || !verifyName.MatchString(name) || name == "." || name == ".." {
			warn(verifyWarning, path, "not a topic directory; the log ignores it")
			continue
		}
		n, why, level := verifyTopicConfig(path)
		if why != "" {
			warn(level, path, "%s", why)
			continue
		}
		steps = append(steps, verifyStep{topic: name})
		parts, err := os.ReadDir(path)
		if err != nil {
			warn(verifyUnreadable, path, "%v", verifyCause(err))
			continue
		}
		for _, pe := range parts {
			id, err := strconv.Atoi(pe.Name())
			switch {
			case pe.Name() == "topic.json":
			case !pe.IsDir():
				warn(verifyWarning, filepath.Join(path, pe.Name()), "not part of the topic; the log ignores it")
			case err != nil || id < 0 || id >= n || strconv.Itoa(id) != pe.Name():
				warn(verifyWarning, filepath.Join(path, pe.Name()), "not a partition of the topic (topic.json says %d partitions); the log ignores it", n)
			}
		}
		for id := range n {
			pdir := filepath.Join(path, strconv.Itoa(id))
			segs, odd, err := verifyListSegments(pdir)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				warn(verifyCorrupt, pdir, "partition directory missing: its records are gone (opening the log starts it empty)")
				continue
			case err != nil:
				warn(verifyUnreadable, pdir, "%v", verifyCause(err))
				continue
			}
			steps = append(steps, verifyStep{part: &verifyPart{topic: name, id: id, dir: pdir, segs: segs, odd: odd}})
		}
	}
	return steps, nil
}

// verifyTopicConfig reads a topic directory's topic.json and returns its
// partition count, or why it cannot, with how bad that is.
func verifyTopicConfig(path string) (partitions int, why string, level verifyLevel) {
	data, err := os.ReadFile(filepath.Join(path, "topic.json"))
	if errors.Is(err, fs.ErrNotExist) {
		// What a CreateTopic cut short leaves: the Log removes it on Open,
		// unless it holds data (log.go, removeUnfinishedTopic).
		if f := verifyFirstData(path); f != "" {
			return 0, fmt.Sprintf("no topic.json, but %s holds data: opening the log fails; restore topic.json", verifyRel(path, f)), verifyCorrupt
		}
		return 0, "no topic.json and no data: the leftover of a topic creation cut short; opening the log removes it", verifyWarning
	}
	if err != nil {
		return 0, fmt.Sprintf("topic.json: %v", verifyCause(err)), verifyUnreadable
	}
	var tf verifyTopicFile
	switch err := json.Unmarshal(data, &tf); {
	case err != nil:
		return 0, fmt.Sprintf("topic.json: %v", err), verifyCorrupt
	case tf.Version != 1:
		return 0, fmt.Sprintf("topic.json: unknown version %d", tf.Version), verifyCorrupt
	case tf.Partitions < 1:
		return 0, fmt.Sprintf("topic.json: %d partitions", tf.Partitions), verifyCorrupt
	}
	return tf.Partitions, "", verifyWarning
}

// verifyFirstData returns the first non-empty file under dir, "" if none.
func verifyFirstData(dir string) string {
	var found string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if filepath.Dir(path) == dir && strings.HasPrefix(d.Name(), ".topic.json.tmp-") {
			return nil // the temporary file of a topic.json write (internal/atomicfile)
		}
		if info, err := d.Info(); err == nil && info.Size() > 0 {
			found = path
			return fs.SkipAll
		}
		return nil
	})
	return found
}
