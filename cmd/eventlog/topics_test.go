package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventlog/eventlog"
)

// topicsJSON runs a command printing JSON and decodes its output into v.
func topicsJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := runOK(t, "", args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("eventlog %s printed %q: %v", strings.Join(args, " "), out, err)
	}
}

// topicsOneLine fails the test unless r failed with exit code want and a
// one-line message on stderr containing every one of words.
func topicsOneLine(t *testing.T, r result, want int, words ...string) {
	t.Helper()
	if r.code != want {
		t.Errorf("exit code = %d; want %d (stderr %q)", r.code, want, r.stderr)
	}
	msg := strings.TrimSuffix(r.stderr, "\n")
	if msg == "" || strings.Contains(msg, "\n") {
		t.Errorf("stderr = %q; want one line", r.stderr)
	}
	for _, w := range words {
		if !strings.Contains(msg, w) {
			t.Errorf("stderr = %q; want it to mention %q", r.stderr, w)
		}
	}
}

func TestTopicsCreateListDescribeDelete(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // create makes it
	d := "--dir=" + dir

	out := runOK(t, "", "topics", "create", "orders", d, "-p", "3", "--retention", "36h", "--retention-bytes", "1MiB")
	if !strings.Contains(out, "orders") || !strings.Contains(out, "3 partition") {
		t.Errorf("topics create printed %q; want the topic and its partitions confirmed", out)
	}
	runOK(t, "", "topics", "create", "audit", d, "--retention", "7d")

	out = runOK(t, "", "topics", "list", d)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "TOPIC") ||
		!slices.Equal(strings.Fields(lines[1])[:2], []string{"audit", "1"}) ||
		!slices.Equal(strings.Fields(lines[2])[:2], []string{"orders", "3"}) {
		t.Errorf("topics list printed\n%s\nwant a header, then audit with 1 partition and orders with 3", out)
	}

	var list []topicsInfo
	topicsJSON(t, &list, "topics", "list", "--json", d)
	want := []topicsInfo{
		{Name: "audit", Partitions: 1, RetentionMs: (7 * 24 * time.Hour).Milliseconds()},
		{Name: "orders", Partitions: 3, RetentionMs: (36 * time.Hour).Milliseconds(), RetentionBytes: 1 << 20},
	}
	for i := range list {
		list[i].SizeBytes = 0 // checked by describe below
	}
	if !slices.EqualFunc(list, want, topicsInfoEqual) {
		t.Errorf("topics list --json = %+v; want %+v", list, want)
	}

	// Records make the partitions grow; describe must show it.
	runOK(t, "a\nb\nc\n", "produce", "orders", d, "-p", "1")
	var desc topicsInfo
	topicsJSON(t, &desc, "topics", "describe", "orders", "--json", d)
	if desc.Name != "orders" || desc.Partitions != 3 || len(desc.Details) != 3 {
		t.Fatalf("topics describe --json = %+v; want orders with 3 partition details", desc)
	}
	var total int64
	for i, p := range desc.Details {
		wantNext := int64(0)
		if i == 1 {
			wantNext = 3
		}
		if p.Partition != i || p.LogStartOffset != 0 || p.NextOffset != wantNext {
			t.Errorf("partition detail %d = %+v; want partition %d, log start 0, next offset %d", i, p, i, wantNext)
		}
		total += p.SizeBytes
	}
	if p := desc.Details[1]; p.Segments != 1 || p.SizeBytes <= 0 {
		t.Errorf("partition 1 holding records: %d segments of %d bytes; want 1 segment of some bytes", p.Segments, p.SizeBytes)
	}
	if desc.SizeBytes != total {
		t.Errorf("topic size_bytes = %d; want the partitions' sum %d", desc.SizeBytes, total)
	}

	out = runOK(t, "", "topics", "describe", "orders", d)
	for _, w := range []string{"Partitions:", "3", "Retention:", "36h", "1 MiB per partition", "LOG-START", "NEXT-OFFSET", "SEGMENTS"} {
		if !strings.Contains(out, w) {
			t.Errorf("topics describe printed\n%s\nwant it to contain %q", out, w)
		}
	}

	out = runOK(t, "", "topics", "delete", "orders", d)
	if !strings.Contains(out, "orders") {
		t.Errorf("topics delete printed %q; want the deleted topic named", out)
	}
	r := run(t, "", nil, "topics", "delete", "orders", d)
	topicsOneLine(t, r, 1, "orders", "unknown topic")
	runOK(t, "", "topics", "delete", "orders", "--if-exists", d)

	if got := libOpen(t, dir).Topics(); !slices.Equal(got, []string{"audit"}) {
		t.Errorf("library Topics() after the CLI deleted orders = %q; want [audit]", got)
	}
}

func topicsInfoEqual(a, b topicsInfo) bool {
	return a.Name == b.Name && a.Partitions == b.Partitions && a.RetentionMs == b.RetentionMs &&
		a.RetentionBytes == b.RetentionBytes && a.SizeBytes == b.SizeBytes && len(a.Details) == len(b.Details)
}

func TestTopicsCreateIsSeenByTheLibrary(t *testing.T) {
	dir := t.TempDir()
	runOK(t, "", "topics", "create", "clicks", "-d", dir, "--partitions", "8", "--retention", "1d12h", "--retention-bytes", "500MB")
	top, err := libOpen(t, dir).Topic("clicks")
	if err != nil {
		t.Fatal(err)
	}
	want := eventlog.TopicConfig{Partitions: 8, Retention: 36 * time.Hour, RetentionBytes: 500e6}
	if got := top.Config(); got != want {
		t.Errorf("Config() of a topic the CLI created = %+v; want %+v", got, want)
	}
}

func TestTopicsCreateRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		words []string
	}{
		{"slash in name", []string{"a/b"}, 2, []string{`"a/b"`, "invalid name"}},
		{"dot-dot name", []string{".."}, 2, []string{"invalid name"}},
		{"reserved name", []string{"__mine"}, 2, []string{"reserved", "invalid name"}},
		{"no name", nil, 2, []string{"topic name"}},
		{"two names", []string{"a", "b"}, 2, []string{"topic name"}},
		{"partitions not a number", []string{"t", "-p", "many"}, 2, []string{"many", "partitions"}},
		{"no partitions", []string{"t", "-p", "0"}, 2, []string{"--partitions 0"}},
		{"too many partitions", []string{"t", "-p", "1000000"}, 2, []string{"1000000", "invalid configuration"}},
		{"bad retention", []string{"t", "--retention", "5parsecs"}, 2, []string{"5parsecs", "--retention"}},
		{"negative retention", []string{"t", "--retention", "-1h"}, 2, []string{"negative"}},
		{"bad retention bytes", []string{"t", "--retention-bytes", "1XB"}, 2, []string{"1XB"}},
		{"unknown flag", []string{"t", "--replicas", "3"}, 2, []string{"--replicas"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			r := run(t, "", nil, append([]string{"topics", "create", "--dir", dir}, tc.args...)...)
			topicsOneLine(t, r, tc.code, tc.words...)
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("bad input created the data directory (Stat: %v); want nothing changed", err)
			}
		})
	}
}

func TestTopicsCreateExisting(t *testing.T) {
	dir := t.TempDir()
	runOK(t, "", "topics", "create", "orders", "-p", "2", "-d", dir)
	r := run(t, "", nil, "topics", "create", "orders", "-p", "5", "-d", dir)
	topicsOneLine(t, r, 1, "orders", "exists")
	runOK(t, "", "topics", "create", "orders", "-p", "5", "--if-not-exists", "-d", dir)

	top, err := libOpen(t, dir).Topic("orders")
	if err != nil {
		t.Fatal(err)
	}
	if got := top.Partitions(); got != 2 {
		t.Errorf("Partitions() after creating an existing topic again = %d; want the original 2", got)
	}
}

func TestTopicsListAllShowsInternalTopics(t *testing.T) {
	dir := t.TempDir()
	// A consumer group makes the Log create its internal offsets topic.
	libTopicWithGroup(t, dir, "orders", "billing")

	var plain, all []topicsInfo
	topicsJSON(t, &plain, "topics", "list", "--json", "-d", dir)
	topicsJSON(t, &all, "topics", "list", "--json", "--all", "-d", dir)
	names := func(infos []topicsInfo) (n []string) {
		for _, i := range infos {
			n = append(n, i.Name)
		}
		return n
	}
	if got := names(plain); !slices.Equal(got, []string{"orders"}) {
		t.Errorf("topics list = %q; want only [orders]", got)
	}
	if got := names(all); !slices.Equal(got, []string{"__consumer_offsets", "orders"}) {
		t.Errorf("topics list --all = %q; want [__consumer_offsets orders]", got)
	}
	if out := runOK(t, "", "topics", "list", "-a", "-d", dir); !strings.Contains(out, "__consumer_offsets") {
		t.Errorf("topics list -a printed %q; want __consumer_offsets in it", out)
	}
}

func TestTopicsListEmptyAndMissingDir(t *testing.T) {
	dir := t.TempDir()
	if out := runOK(t, "", "topics", "list", "-d", dir); out != "" {
		t.Errorf("topics list of an empty log printed %q; want nothing", out)
	}
	if out := runOK(t, "", "topics", "list", "--json", "-d", dir); strings.TrimSpace(out) != "[]" {
		t.Errorf("topics list --json of an empty log printed %q; want []", out)
	}
	missing := filepath.Join(dir, "nothing-here")
	r := run(t, "", nil, "topics", "list", "-d", missing)
	topicsOneLine(t, r, 1, missing)
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("topics list created the missing directory (Stat: %v)", err)
	}
}

func TestTopicsUseEnvironmentDir(t *testing.T) {
	dir := t.TempDir()
	env := []string{"EVENTLOG_DIR=" + dir}
	if r := run(t, "", env, "topics", "create", "orders"); r.code != 0 {
		t.Fatalf("topics create with EVENTLOG_DIR: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := run(t, "", env, "topics", "list"); r.code != 0 || !strings.Contains(r.stdout, "orders") {
		t.Errorf("topics list with EVENTLOG_DIR: exit %d, stdout %q; want orders listed", r.code, r.stdout)
	}
}

func TestTopicsDescribeUnknown(t *testing.T) {
	dir := t.TempDir()
	runOK(t, "", "topics", "create", "orders", "-d", dir)
	r := run(t, "", nil, "topics", "describe", "ordres", "-d", dir)
	topicsOneLine(t, r, 1, "ordres", "unknown topic")
	if r.stdout != "" {
		t.Errorf("failed describe printed %q on stdout; want nothing", r.stdout)
	}
}

func TestTopicsUnknownSubcommand(t *testing.T) {
	r := run(t, "", nil, "topics", "lst", "-d", t.TempDir())
	topicsOneLine(t, r, 2, `"lst"`, "list")
}

func TestTopicsLockedDirectory(t *testing.T) {
	dir := t.TempDir()
	l := libOpen(t, dir)
	if _, err := l.CreateTopic("orders", eventlog.TopicConfig{}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"topics", "list"},
		{"topics", "create", "other"},
		{"topics", "describe", "orders"},
		{"topics", "delete", "orders"},
	} {
		r := run(t, "", nil, append(args, "-d", dir)...)
		if r.code == 0 {
			t.Errorf("eventlog %s on a directory another Log holds: exit 0; want an error", strings.Join(args, " "))
			continue
		}
		topicsOneLine(t, r, 1, "in use")
	}
	if got := l.Topics(); !slices.Equal(got, []string{"orders"}) {
		t.Errorf("Topics() of the holding Log = %q; want [orders] untouched", got)
	}
}
