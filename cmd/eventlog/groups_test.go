package main

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventlog/eventlog"
)

// groupsSetup makes a log with topic orders (2 partitions of 10 records)
// and group billing committed at offset 4 on partition 0 and 10 on
// partition 1, and returns its directory.
func groupsSetup(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	verifyFill(t, dir, 0, "orders", 2, 10)
	groupsLibCommit(t, dir, "billing", "orders", map[int]int64{0: 4, 1: 10})
	return dir
}

// groupsLibCommit commits offsets for group on topic with the library, as
// an application would: join, take the partitions at the first Poll,
// commit, leave.
func groupsLibCommit(t *testing.T, dir, group, topic string, offsets map[int]int64) {
	t.Helper()
	l, g := libGroup(t, dir, group, topic)
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := g.Join(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Poll(ctx); err != nil {
		t.Fatalf("Poll: %v", err)
	}
	offs := make(map[eventlog.TopicPartition]int64)
	for p, off := range offsets {
		offs[eventlog.TopicPartition{Topic: topic, Partition: p}] = off
	}
	if err := c.CommitOffsets(ctx, offs); err != nil {
		t.Fatalf("CommitOffsets: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// groupsLibCommitted returns the group's committed offsets on the topic's
// partitions as the library reads them, -1 for none.
func groupsLibCommitted(t *testing.T, dir, group, topic string, partitions int) []int64 {
	t.Helper()
	l, g := libGroup(t, dir, group, topic)
	defer l.Close()
	out := make([]int64, partitions)
	for p := range partitions {
		out[p] = -1
		if off, ok := g.Committed(topic, p); ok {
			out[p] = off
		}
	}
	return out
}

// groupsRow matches one table row whose cells are the given words
// separated by spaces.
func groupsRow(cells ...string) *regexp.Regexp {
	for i, c := range cells {
		cells[i] = regexp.QuoteMeta(c)
	}
	return regexp.MustCompile(`(?m)^` + strings.Join(cells, ` +`) + ` *$`)
}

func TestGroupsList(t *testing.T) {
	dir := groupsSetup(t)
	groupsLibCommit(t, dir, "audit", "orders", map[int]int64{1: 3})

	out := runOK(t, "", "-d", dir, "groups", "list")
	for _, row := range [][]string{{"GROUP", "TOPICS", "LAG"}, {"audit", "orders", "7"}, {"billing", "orders", "6"}} {
		if !groupsRow(row...).MatchString(out) {
			t.Errorf("groups list: no row %q in\n%s", row, out)
		}
	}
	if strings.Index(out, "audit") > strings.Index(out, "billing") {
		t.Errorf("groups list is not sorted by name:\n%s", out)
	}

	var infos []groupsInfo
	if err := json.Unmarshal([]byte(runOK(t, "", "-d", dir, "groups", "list", "--json")), &infos); err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 || infos[1].Group != "billing" || infos[1].Lag != 6 || !slices.Equal(infos[1].Topics, []string{"orders"}) {
		t.Errorf("groups list --json = %+v; want audit, then billing on orders with lag 6", infos)
	}
}

func TestGroupsListEmpty(t *testing.T) {
	dir := t.TempDir()
	verifyFill(t, dir, 0, "orders", 1, 1)
	if out := runOK(t, "", "-d", dir, "groups", "list"); out != "" {
		t.Errorf("groups list without groups printed %q; want nothing", out)
	}
	if out := runOK(t, "", "-d", dir, "groups", "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("groups list --json without groups printed %q; want []", out)
	}
}

func TestGroupsDescribe(t *testing.T) {
	dir := groupsSetup(t)
	verifyFill(t, dir, 0, "other", 1, 3) // the group has no offsets there

	out := runOK(t, "", "-d", dir, "groups", "describe", "billing")
	for _, row := range [][]string{
		{"TOPIC", "PARTITION", "COMMITTED", "LOG-START", "LOG-END", "LAG"},
		{"orders", "0", "4", "0", "10", "6"},
		{"orders", "1", "10", "0", "10", "0"},
		{"total", "lag", "6"},
	} {
		if !groupsRow(row...).MatchString(out) {
			t.Errorf("groups describe: no row %q in\n%s", row, out)
		}
	}
	if strings.Contains(out, "other") {
		t.Errorf("groups describe lists a topic the group has no offsets on:\n%s", out)
	}

	// --topic shows a topic without offsets too, with "-" for them.
	out = runOK(t, "", "-d", dir, "groups", "describe", "billing", "--topic", "other")
	if !groupsRow("other", "0", "-", "0", "3", "-").MatchString(out) || strings.Contains(out, "orders") {
		t.Errorf("groups describe --topic other:\n%s\nwant only other/0 with no committed offset", out)
	}

	var info groupsInfo
	if err := json.Unmarshal([]byte(runOK(t, "", "-d", dir, "groups", "describe", "billing", "--json")), &info); err != nil {
		t.Fatal(err)
	}
	if len(info.Partitions) != 2 || *info.Partitions[0].Committed != 4 || *info.Partitions[0].Lag != 6 || info.Partitions[1].LogEnd != 10 {
		t.Errorf("groups describe --json = %+v", info)
	}
}

func TestGroupsDescribeUnknown(t *testing.T) {
	dir := groupsSetup(t)
	r := run(t, "", nil, "-d", dir, "groups", "describe", "nosuch")
	if r.code != 1 || !strings.Contains(r.stderr, "unknown consumer group") || !strings.Contains(r.stderr, "nosuch") {
		t.Errorf("describe of an unknown group: exit %d, stderr %q; want 1 and a message naming it", r.code, r.stderr)
	}
	r = run(t, "", nil, "-d", dir, "groups", "describe", "billing", "--topic", "nosuch")
	if r.code == 0 || !strings.Contains(r.stderr, "unknown topic") {
		t.Errorf("describe --topic of an unknown topic: exit %d, stderr %q; want an error", r.code, r.stderr)
	}
}

func TestGroupsReset(t *testing.T) {
	dir := groupsSetup(t)

	out := runOK(t, "", "-d", dir, "groups", "reset", "billing", "--topic", "orders", "--to-earliest")
	if !groupsRow("orders", "0", "4", "0", "0", "10").MatchString(out) || !groupsRow("orders", "1", "10", "0", "0", "10").MatchString(out) {
		t.Errorf("reset --to-earliest printed\n%s\nwant old 4 and 10, new 0", out)
	}
	if got := groupsLibCommitted(t, dir, "billing", "orders", 2); !slices.Equal(got, []int64{0, 0}) {
		t.Fatalf("after reset --to-earliest, Committed = %v; want [0 0]", got)
	}

	runOK(t, "", "-d", dir, "groups", "reset", "billing", "-t", "orders", "-p", "1", "--to-offset", "7")
	if got := groupsLibCommitted(t, dir, "billing", "orders", 2); !slices.Equal(got, []int64{0, 7}) {
		t.Fatalf("after reset -p 1 --to-offset 7, Committed = %v; want [0 7]", got)
	}

	// Record i was written at verifyTestBase + i seconds.
	runOK(t, "", "-d", dir, "groups", "reset", "billing", "-t", "orders", "-p", "0",
		"--to-time", verifyTestBase.Add(5*time.Second).Format(time.RFC3339))
	if got := groupsLibCommitted(t, dir, "billing", "orders", 2); !slices.Equal(got, []int64{5, 7}) {
		t.Fatalf("after reset -p 0 --to-time base+5s, Committed = %v; want [5 7]", got)
	}

	out = runOK(t, "", "-d", dir, "groups", "reset", "billing", "-t", "orders", "--to-offset", "99")
	if !strings.Contains(out, "past the log end") {
		t.Errorf("reset --to-offset past the end does not say it moved the offset:\n%s", out)
	}
	if got := groupsLibCommitted(t, dir, "billing", "orders", 2); !slices.Equal(got, []int64{10, 10}) {
		t.Fatalf("after reset --to-offset 99, Committed = %v; want the log end [10 10]", got)
	}
}

func TestGroupsResetDryRun(t *testing.T) {
	dir := groupsSetup(t)
	out := runOK(t, "", "-d", dir, "groups", "reset", "billing", "-t", "orders", "--to-latest", "--dry-run")
	if !groupsRow("orders", "0", "4", "10", "0", "10").MatchString(out) || !strings.Contains(out, "dry run") {
		t.Errorf("reset --dry-run printed\n%s\nwant old 4, new 10 and a dry-run note", out)
	}
	if got := groupsLibCommitted(t, dir, "billing", "orders", 2); !slices.Equal(got, []int64{4, 10}) {
		t.Fatalf("after reset --dry-run, Committed = %v; want it unchanged, [4 10]", got)
	}
}

// TestGroupsResetNewGroup checks that reset creates a group, and only on
// the partitions asked for.
func TestGroupsResetNewGroup(t *testing.T) {
	dir := groupsSetup(t)
	runOK(t, "", "-d", dir, "groups", "reset", "fresh", "-t", "orders", "-p", "0", "--to-latest")
	if got := groupsLibCommitted(t, dir, "fresh", "orders", 2); !slices.Equal(got, []int64{10, -1}) {
		t.Fatalf("after reset of a new group, Committed = %v; want [10 -1]", got)
	}
}

func TestGroupsResetUsage(t *testing.T) {
	dir := groupsSetup(t)
	for _, args := range [][]string{
		{"billing", "-t", "orders"},
		{"billing", "-t", "orders", "--to-earliest", "--to-latest"},
		{"billing", "--to-earliest"},
		{"billing", "-t", "orders", "--to-time", "yesterday"},
		{"billing", "-t", "orders", "--to-offset", "-1"},
		{"billing", "-t", "orders", "-p", "5", "--to-earliest"},
		{"-t", "orders", "--to-earliest"},
		{"billing", "-t", "__consumer_offsets", "--to-earliest", "--dry-run"},
	} {
		r := run(t, "", nil, append([]string{"-d", dir, "groups", "reset"}, args...)...)
		if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("groups reset %q: exit %d, stderr %q; want 2 and one line", args, r.code, r.stderr)
		}
	}
	if got := groupsLibCommitted(t, dir, "billing", "orders", 2); !slices.Equal(got, []int64{4, 10}) {
		t.Fatalf("after failed resets, Committed = %v; want it unchanged, [4 10]", got)
	}
}

func TestGroupsParseTime(t *testing.T) {
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2024-05-01T12:00:00Z":      time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		"2024-05-01T14:00:00+02:00": time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		"2024-05-01":                time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		"1714564800000":             time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		"-1h30m":                    now.Add(-90 * time.Minute),
		"-7d":                       now.Add(-7 * 24 * time.Hour),
	} {
		got, err := groupsParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("groupsParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "2024-13-01", "-x"} {
		if _, err := groupsParseTime(in, now); err == nil {
			t.Errorf("groupsParseTime(%q) = nil error; want one", in)
		}
	}
}

func TestGroupsDelete(t *testing.T) {
	dir := groupsSetup(t)
	out := runOK(t, "", "-d", dir, "groups", "delete", "billing")
	if !strings.Contains(out, "billing") {
		t.Errorf("groups delete printed %q; want it to name the group", out)
	}
	if got := groupsLibCommitted(t, dir, "billing", "orders", 2); !slices.Equal(got, []int64{-1, -1}) {
		t.Fatalf("after delete, Committed = %v; want nothing", got)
	}
	if out := runOK(t, "", "-d", dir, "groups", "list"); strings.Contains(out, "billing") {
		t.Errorf("groups list after delete:\n%s", out)
	}
	r := run(t, "", nil, "-d", dir, "groups", "delete", "billing")
	if r.code != 1 || !strings.Contains(r.stderr, "unknown consumer group") {
		t.Errorf("second delete: exit %d, stderr %q; want 1 and unknown group", r.code, r.stderr)
	}
}

func TestGroupsRefusesLockedDir(t *testing.T) {
	dir := groupsSetup(t)
	libOpen(t, dir) // holds the directory's lock
	r := run(t, "", nil, "-d", dir, "groups", "reset", "billing", "-t", "orders", "--to-earliest")
	if r.code != 1 || !strings.Contains(r.stderr, "in use by another process") {
		t.Errorf("reset on a locked directory: exit %d, stderr %q; want 1 and a message that it is in use", r.code, r.stderr)
	}
}
