package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/eventlog/eventlog"
)

// verifyEntryStarts returns the byte position of every entry of a segment
// file, read from its framing (segment/FORMAT.md).
func verifyEntryStarts(t *testing.T, path string) []int64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var starts []int64
	for pos := 0; pos < len(data); {
		size, n := binary.Uvarint(data[pos:])
		if n <= 0 {
			t.Fatalf("%s: bad framing at byte %d", path, pos)
		}
		starts = append(starts, int64(pos))
		pos += n + int(size)
	}
	return starts
}

// verifySetup makes a log with topic orders (2 partitions of 40 records,
// one entry each, in several segment files) and a group with committed
// offsets, so that __consumer_offsets exists too.
func verifySetup(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	verifyFill(t, dir, 512, "orders", 2, 40)
	groupsLibCommit(t, dir, "billing", "orders", map[int]int64{0: 5})
	return dir
}

// verifySummary matches verify's summary line and captures its counts.
var verifySummary = regexp.MustCompile(`(?m)^checked (\d+) topics, (\d+) partitions, (\d+) files, (\d+) entries, (\d+) records, .* \((\d+) bytes\): (.*)$`)

func TestVerifyCleanLog(t *testing.T) {
	dir := verifySetup(t)
	files := len(verifySegmentFiles(t, dir, "orders", 0)) + len(verifySegmentFiles(t, dir, "orders", 1))
	if files < 4 {
		t.Fatalf("setup made %d segment files for orders; want several per partition", files)
	}
	var size int64
	filepath.Walk(filepath.Join(dir, "topics"), func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && filepath.Base(path) != "topic.json" {
			size += info.Size()
		}
		return err
	})
	before := verifySnapshot(t, dir)

	r := run(t, "", nil, "-d", dir, "verify")
	if r.code != 0 {
		t.Fatalf("verify of a clean log: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("verify wrote to stderr, which is not a terminal: %q; want no progress bar", r.stderr)
	}
	m := verifySummary.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("verify printed no summary line:\n%s", r.stdout)
	}
	// orders and __consumer_offsets (one commit: one entry, one record).
	want := []string{"2", "3", fmt.Sprint(files + 1), "81", "81", fmt.Sprint(size), "no problems"}
	if got := m[1:]; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("summary counts (topics partitions files entries records bytes verdict) = %q; want %q", got, want)
	}
	if strings.TrimSpace(r.stdout) != m[0] {
		t.Errorf("verify of a clean log printed more than the summary:\n%s", r.stdout)
	}
	verifySameSnapshot(t, before, verifySnapshot(t, dir))

	out := runOK(t, "", "-d", dir, "verify", "-v")
	if !regexp.MustCompile(`(?m)^orders/1: \d+ files, 40 entries, 40 records, .*, offsets 0\.\.39$`).MatchString(out) {
		t.Errorf("verify -v has no line for orders/1:\n%s", out)
	}
	if out := runOK(t, "", "-d", dir, "verify", "-q"); out != "" {
		t.Errorf("verify -q of a clean log printed %q; want nothing", out)
	}
}

func TestVerifyFlippedByte(t *testing.T) {
	for _, which := range []string{"first", "last"} {
		t.Run(which+" file", func(t *testing.T) {
			dir := verifySetup(t)
			files := verifySegmentFiles(t, dir, "orders", 1)
			path := files[0]
			if which == "last" {
				path = files[len(files)-1]
			}
			starts := verifyEntryStarts(t, path)
			if len(starts) < 3 {
				t.Fatalf("%s has %d entries; want at least 3", path, len(starts))
			}
			// Flip a byte inside an entry in the middle of the file: with
			// whole entries after it, that is damage, not a torn write.
			k := len(starts) / 2
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			data[starts[k]+20] ^= 0x40
			if err := os.WriteFile(path, data, 0o640); err != nil {
				t.Fatal(err)
			}
			first := verifyFirstOffset(t, dir, path)
			before := verifySnapshot(t, dir)

			r := run(t, "", nil, "-d", dir, "verify")
			if r.code != 3 {
				t.Fatalf("verify with a flipped byte: exit %d; want 3\nstdout:\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			rel, _ := filepath.Rel(dir, path)
			want := fmt.Sprintf("CORRUPT %s: byte %d, offset %d: ", rel, starts[k], first+int64(k))
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout does not report %q:\n%s", want, r.stdout)
			}
			if !strings.Contains(r.stderr, rel) || !strings.Contains(r.stderr, fmt.Sprintf("byte %d", starts[k])) ||
				strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("stderr %q: want one line naming %s and byte %d", r.stderr, rel, starts[k])
			}
			if m := verifySummary.FindStringSubmatch(r.stdout); m == nil || !strings.HasPrefix(m[7], "1 corrupt") {
				t.Errorf("summary does not count one corrupt finding:\n%s", r.stdout)
			}
			verifySameSnapshot(t, before, verifySnapshot(t, dir))
		})
	}
}

// verifyFirstOffset returns the first offset held by a segment file of
// orders/1, which verifySetup fills with one record per entry.
func verifyFirstOffset(t *testing.T, dir, path string) int64 {
	t.Helper()
	var n int64
	for _, f := range verifySegmentFiles(t, dir, "orders", 1) {
		if f == path {
			return n
		}
		n += int64(len(verifyEntryStarts(t, f)))
	}
	t.Fatalf("%s is not a segment of orders/1", path)
	return 0
}

func TestVerifyTornTail(t *testing.T) {
	dir := verifySetup(t)
	files := verifySegmentFiles(t, dir, "orders", 0)
	path := files[len(files)-1]
	starts := verifyEntryStarts(t, path)
	last := starts[len(starts)-1]
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A write cut short: the last entry lost its final 5 bytes.
	if err := os.WriteFile(path, data[:len(data)-5], 0o640); err != nil {
		t.Fatal(err)
	}
	before := verifySnapshot(t, dir)

	r := run(t, "", nil, "-d", dir, "verify")
	if r.code != 0 {
		t.Fatalf("verify with a torn tail: exit %d; want 0 (a warning)\nstdout:\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	rel, _ := filepath.Rel(dir, path)
	want := fmt.Sprintf("WARNING %s: byte %d, offset 39: torn tail", rel, last)
	if !strings.Contains(r.stdout, want) {
		t.Errorf("stdout does not warn %q:\n%s", want, r.stdout)
	}
	if m := verifySummary.FindStringSubmatch(r.stdout); m == nil || m[5] != "80" || m[7] != "1 warning" {
		t.Errorf("summary: want 80 records (the torn one is not counted) and 1 warning:\n%s", r.stdout)
	}
	verifySameSnapshot(t, before, verifySnapshot(t, dir))

	// Opening the log cuts exactly what verify said it would.
	l, err := eventlog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if info, err := os.Stat(path); err != nil || info.Size() != last {
		t.Errorf("after Open, %s is %v bytes (%v); verify said Open cuts it to %d", rel, info.Size(), err, last)
	}
}

// TestVerifyMissingSegment removes a sealed segment file from the middle
// of a partition: the files no longer chain, in wal indexes or offsets.
func TestVerifyMissingSegment(t *testing.T) {
	dir := verifySetup(t)
	files := verifySegmentFiles(t, dir, "orders", 0)
	if len(files) < 3 {
		t.Fatalf("orders/0 has %d segment files; want 3 or more", len(files))
	}
	if err := os.Remove(files[1]); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", nil, "-d", dir, "verify")
	if r.code != 3 {
		t.Fatalf("verify with a missing segment: exit %d; want 3\nstdout:\n%s", r.code, r.stdout)
	}
	rel0, _ := filepath.Rel(dir, files[0])
	rel2, _ := filepath.Rel(dir, files[2])
	for _, want := range []string{
		"CORRUPT " + rel0 + ": holds ",
		"CORRUPT " + rel2 + ": byte 0, offset ",
		"offsets do not continue across files",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout does not report %q:\n%s", want, r.stdout)
		}
	}
}

func TestVerifyStrayFiles(t *testing.T) {
	dir := verifySetup(t)
	pdir := filepath.Join(dir, "topics", "orders", "0")
	if err := os.WriteFile(filepath.Join(pdir, "notes.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "topics", "orders", "7"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", nil, "-d", dir, "verify")
	if r.code != 0 {
		t.Fatalf("verify with stray files: exit %d; want 0 (warnings)\nstdout:\n%s", r.code, r.stdout)
	}
	for _, want := range []string{
		"WARNING topics/orders/0/notes.txt: not a segment file",
		"WARNING topics/orders/7: not a partition of the topic (topic.json says 2 partitions)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout does not report %q:\n%s", want, r.stdout)
		}
	}
}

func TestVerifyRefusesLockedDir(t *testing.T) {
	dir := verifySetup(t)
	libOpen(t, dir) // holds the directory's lock
	for _, args := range [][]string{{"verify"}, {"dump", "orders"}} {
		r := run(t, "", nil, append([]string{"-d", dir}, args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "in use by another process") || r.stdout != "" {
			t.Errorf("%s on a locked directory: exit %d, stdout %q, stderr %q; want 1, nothing on stdout and a message that it is in use",
				args[0], r.code, r.stdout, r.stderr)
		}
	}
}

func TestVerifyMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nosuch")
	r := run(t, "", nil, "-d", dir, "verify")
	if r.code != 1 || !strings.Contains(r.stderr, dir) {
		t.Errorf("verify of a missing directory: exit %d, stderr %q; want 1 and the directory named", r.code, r.stderr)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("verify created %s", dir)
	}

	// A directory that is not a log's is refused, and left as it was.
	dir = t.TempDir()
	r = run(t, "", nil, "-d", dir, "verify")
	if r.code != 1 || !strings.Contains(r.stderr, "not an eventlog data directory") {
		t.Errorf("verify of an empty directory: exit %d, stderr %q; want 1 and that it is not a log's", r.code, r.stderr)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("verify of an empty directory left %d files in it", len(ents))
	}
}

// TestVerifyProgressOnlyOnTerminal checks that no progress bar is made for
// a writer that is not a terminal (a pipe, a file), and that the bar made
// for one reports progress by bytes.
func TestVerifyProgressOnlyOnTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if bar := verifyNewBar(f, 100); bar != nil {
		t.Errorf("verifyNewBar of a regular file = %v; want nil", bar)
	}
	if bar := verifyNewBar(&bytes.Buffer{}, 100); bar != nil {
		t.Errorf("verifyNewBar of a buffer = %v; want nil", bar)
	}
	var buf bytes.Buffer
	bar := verifyBar(&buf, 4096)
	bar.Add64(2048)
	if !strings.Contains(buf.String(), "verifying") || !strings.Contains(buf.String(), "50%") {
		t.Errorf("progress bar at half way wrote %q; want a description and 50%%", buf.String())
	}
}
