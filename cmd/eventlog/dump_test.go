package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dumpEntry matches an entry line of dump and captures its position,
// first offset and count.
var dumpEntry = regexp.MustCompile(`(?m)^  pos=(\d+) index=\d+ len=\d+ crc=0x[0-9a-f]{8} version=1 first=(\d+) count=(\d+) last=\d+ maxtime=\S+ headers=(\d+)$`)

func TestDumpEntries(t *testing.T) {
	dir := t.TempDir()
	verifyFill(t, dir, 512, "orders", 2, 40)
	files := verifySegmentFiles(t, dir, "orders", 1)
	before := verifySnapshot(t, dir)

	out := runOK(t, "", "-d", dir, "dump", "orders", "-p", "1")
	ents := dumpEntry.FindAllStringSubmatch(out, -1)
	if len(ents) != 40 {
		t.Fatalf("dump printed %d entry lines; want 40 (one per record):\n%s", len(ents), out)
	}
	for i, e := range ents {
		if e[2] != fmt.Sprint(i) || e[3] != "1" || e[4] != "1" {
			t.Errorf("entry line %d: first=%s count=%s headers=%s; want first=%d count=1 headers=1", i, e[2], e[3], e[4], i)
		}
	}
	// Each file starts with a line naming it, and its entries' positions
	// are where the framing puts them.
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		if !strings.Contains(out, "file "+rel+": ") {
			t.Errorf("dump does not name %s:\n%s", rel, out)
		}
	}
	starts := verifyEntryStarts(t, files[0])
	for i, pos := range starts {
		if ents[i][1] != fmt.Sprint(pos) {
			t.Errorf("entry %d of %s: pos=%s; want %d", i, files[0], ents[i][1], pos)
		}
	}
	if strings.Contains(out, "offset=") {
		t.Errorf("dump without --records printed records:\n%s", out)
	}
	verifySameSnapshot(t, before, verifySnapshot(t, dir))
}

func TestDumpRecordsFrom(t *testing.T) {
	dir := t.TempDir()
	verifyFill(t, dir, 512, "orders", 2, 40)

	out := runOK(t, "", "-d", dir, "dump", "orders", "-p", "1", "--from", "37", "--records")
	ents := dumpEntry.FindAllStringSubmatch(out, -1)
	if len(ents) != 3 || ents[0][2] != "37" {
		t.Errorf("dump --from 37 printed %d entries from %v; want 3 from offset 37:\n%s", len(ents), ents, out)
	}
	want := `    offset=38 time=2024-05-01T12:00:38Z key="k38" value="p1-v38" headers=["i"="38"]`
	if !strings.Contains(out, want+"\n") {
		t.Errorf("dump --records does not print %q:\n%s", want, out)
	}
	if strings.Contains(out, "offset=36 ") {
		t.Errorf("dump --from 37 printed offset 36:\n%s", out)
	}
}

func TestDumpConsumerOffsets(t *testing.T) {
	dir := t.TempDir()
	verifyFill(t, dir, 0, "orders", 1, 3)
	groupsLibCommit(t, dir, "billing", "orders", map[int]int64{0: 2})
	out := runOK(t, "", "-d", dir, "dump", "__consumer_offsets", "--records")
	if !strings.Contains(out, `key="billing\x00orders\x000"`) {
		t.Errorf("dump of __consumer_offsets does not show the commit:\n%s", out)
	}
}

func TestDumpCorrupt(t *testing.T) {
	dir := t.TempDir()
	verifyFill(t, dir, 0, "orders", 1, 10)
	path := verifySegmentFiles(t, dir, "orders", 0)[0]
	starts := verifyEntryStarts(t, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[starts[4]+10] ^= 1
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}

	r := run(t, "", nil, "-d", dir, "dump", "orders")
	if r.code != 3 {
		t.Fatalf("dump of a damaged partition: exit %d; want 3\nstdout:\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if n := len(dumpEntry.FindAllString(r.stdout, -1)); n != 4 {
		t.Errorf("dump printed %d entries; want the 4 before the damage:\n%s", n, r.stdout)
	}
	if want := fmt.Sprintf("CORRUPT at byte %d: ", starts[4]); !strings.Contains(r.stdout, want) {
		t.Errorf("dump does not report %q:\n%s", want, r.stdout)
	}
}

func TestDumpUsage(t *testing.T) {
	dir := t.TempDir()
	verifyFill(t, dir, 0, "orders", 2, 1)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dump", "orders", "-p", "2"}, 2, "has 2 partitions"},
		{[]string{"dump", "orders", "--from", "-1"}, 2, "--from"},
		{[]string{"dump", "../orders"}, 2, "invalid name"},
		{[]string{"dump"}, 2, "one topic name"},
		{[]string{"dump", "nosuch"}, 1, "unknown topic"},
	} {
		r := run(t, "", nil, append([]string{"-d", dir}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("eventlog %q: exit %d, stderr %q; want %d and %q", c.args, r.code, r.stderr, c.code, c.want)
		}
	}
}
