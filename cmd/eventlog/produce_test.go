package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eventlog/eventlog"
	"github.com/eventlog/eventlog/internal/murmur2"
)

// produceRec is what a test expects of one record read back.
type produceRec struct {
	partition int
	key       []byte // nil: no key
	value     []byte // nil: a tombstone
	headers   []eventlog.Header
}

// produceReadBack reads every record of topic with the library, after the
// CLI has exited, in partition and offset order.
func produceReadBack(t *testing.T, dir, topic string) []eventlog.Record {
	t.Helper()
	top, err := libOpen(t, dir).Topic(topic)
	if err != nil {
		t.Fatal(err)
	}
	var recs []eventlog.Record
	for i := range top.Partitions() {
		part, err := top.Partition(i)
		if err != nil {
			t.Fatal(err)
		}
		want := part.FirstOffset()
		for rec, err := range part.Read(t.Context(), part.FirstOffset()) {
			if err != nil {
				t.Fatalf("reading %s/%d: %v", topic, i, err)
			}
			if rec.Offset != want {
				t.Fatalf("%s/%d: offset %d after %d; want contiguous offsets", topic, i, rec.Offset, want-1)
			}
			want++
			recs = append(recs, rec)
		}
	}
	return recs
}

// produceCompare fails the test unless got holds exactly want, nil and
// empty told apart, in the same order.
func produceCompare(t *testing.T, got []eventlog.Record, want []produceRec) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("read back %d records; want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Partition != w.partition || !produceSameBytes(g.Key, w.key) || !produceSameBytes(g.Value, w.value) ||
			!slices.EqualFunc(g.Headers, w.headers, produceSameHeader) {
			t.Errorf("record %d = partition %d key %s value %s headers %s; want partition %d key %s value %s headers %s",
				i, g.Partition, produceShow(g.Key), produceShow(g.Value), produceShowHeaders(g.Headers),
				w.partition, produceShow(w.key), produceShow(w.value), produceShowHeaders(w.headers))
		}
	}
}

// produceSameBytes is bytes.Equal that also tells nil from empty.
func produceSameBytes(a, b []byte) bool { return bytes.Equal(a, b) && (a == nil) == (b == nil) }

func produceSameHeader(a, b eventlog.Header) bool {
	return a.Key == b.Key && bytes.Equal(a.Value, b.Value)
}

func produceShow(b []byte) string {
	if b == nil {
		return "nil"
	}
	return fmt.Sprintf("%q", b)
}

func produceShowHeaders(hs []eventlog.Header) string {
	var s []string
	for _, h := range hs {
		s = append(s, h.Key+"="+string(h.Value))
	}
	return "[" + strings.Join(s, " ") + "]"
}

func TestProduceKeysAndHeadersReadBackByTheLibrary(t *testing.T) {
	dir := t.TempDir()
	runOK(t, "", "topics", "create", "orders", "-p", "3", "-d", dir)

	keys := []string{"order-1", "order-2", "order-3", "order-4", "order-5", "order-6"}
	var in strings.Builder
	for i := range 30 {
		fmt.Fprintf(&in, "%s:event %d: with a colon\n", keys[i%len(keys)], i)
	}
	out := runOK(t, in.String(), "produce", "orders", "-k", ":", "-H", "source=cli", "-H", "trace=a=b", "-H", "empty=", "-d", dir)
	if out != "" {
		t.Errorf("produce printed %q on stdout; want nothing, as kcat -P", out)
	}

	headers := []eventlog.Header{{Key: "source", Value: []byte("cli")}, {Key: "trace", Value: []byte("a=b")}, {Key: "empty", Value: []byte{}}}
	// Each partition holds its keys' records in input order.
	var want []produceRec
	for p := range 3 {
		for i := range 30 {
			k := keys[i%len(keys)]
			if murmur2.Partition([]byte(k), 3) == p {
				want = append(want, produceRec{p, []byte(k), fmt.Appendf(nil, "event %d: with a colon", i), headers})
			}
		}
	}
	produceCompare(t, produceReadBack(t, dir, "orders"), want)
}

func TestProduceKeyDelimiterEdgeCases(t *testing.T) {
	const in = "k1\tv1\nno key here\n\n\tvalue only\nkey only\t\n\t\nlast\tline" // no final newline
	hs := []eventlog.Header(nil)
	for _, tc := range []struct {
		name string
		args []string
		want []produceRec
	}{
		{"empty kept empty", []string{"-k", `\t`}, []produceRec{
			{0, []byte("k1"), []byte("v1"), hs},
			{0, nil, []byte("no key here"), hs}, // no delimiter: no key
			// the empty line is skipped, as kcat does
			{0, []byte{}, []byte("value only"), hs},
			{0, []byte("key only"), []byte{}, hs},
			{0, []byte{}, []byte{}, hs},
			{0, []byte("last"), []byte("line"), hs},
		}},
		{"-Z makes empty null", []string{"-k", "\t", "-Z"}, []produceRec{
			{0, []byte("k1"), []byte("v1"), hs},
			{0, nil, []byte("no key here"), hs},
			{0, nil, []byte("value only"), hs},
			{0, []byte("key only"), nil, hs}, // a tombstone
			{0, nil, nil, hs},
			{0, []byte("last"), []byte("line"), hs},
		}},
		{"no -k: whole lines are values", nil, []produceRec{
			{0, nil, []byte("k1\tv1"), hs},
			{0, nil, []byte("no key here"), hs},
			{0, nil, []byte("\tvalue only"), hs},
			{0, nil, []byte("key only\t"), hs},
			{0, nil, []byte("\t"), hs},
			{0, nil, []byte("last\tline"), hs},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			runOK(t, "", "topics", "create", "t", "-d", dir)
			runOK(t, in, append([]string{"produce", "t", "-d", dir}, tc.args...)...)
			produceCompare(t, produceReadBack(t, dir, "t"), tc.want)
		})
	}
}

func TestProduceRecordDelimiters(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		args     []string
		values   []string
	}{
		{"final newline makes no empty record", "a\nb\n", nil, []string{"a", "b"}},
		{"empty lines are skipped", "\n\na\n\n\nb\n\n", nil, []string{"a", "b"}},
		{"CRLF is kept in the value", "a\r\nb\r\n", nil, []string{"a\r", "b\r"}},
		{"NUL", "one\x00two words\nand a newline\x00", []string{"-D", `\0`}, []string{"one", "two words\nand a newline"}},
		{"multi-byte", "a||b|c||||d", []string{"-D", "||"}, []string{"a", "b|c", "d"}},
		{"hex escape", "a;b;", []string{"-D", `\x3b`}, []string{"a", "b"}},
		{"empty input", "", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			runOK(t, "", "topics", "create", "t", "-d", dir)
			runOK(t, tc.in, append([]string{"produce", "t", "-d", dir}, tc.args...)...)
			var want []produceRec
			for _, v := range tc.values {
				want = append(want, produceRec{0, nil, []byte(v), nil})
			}
			produceCompare(t, produceReadBack(t, dir, "t"), want)
		})
	}
}

func TestProducePartitionFlag(t *testing.T) {
	dir := t.TempDir()
	runOK(t, "", "topics", "create", "t", "-p", "4", "-d", dir)
	// With -p, keys do not choose the partition.
	runOK(t, "x:1\ny:2\nz:3\n", "produce", "t", "-p", "2", "-k", ":", "-d", dir)
	produceCompare(t, produceReadBack(t, dir, "t"), []produceRec{
		{2, []byte("x"), []byte("1"), nil},
		{2, []byte("y"), []byte("2"), nil},
		{2, []byte("z"), []byte("3"), nil},
	})
}

func TestProduceLongLinesAndManyRecords(t *testing.T) {
	dir := t.TempDir()
	runOK(t, "", "topics", "create", "t", "-d", dir)
	// Lines longer than bufio.Scanner's 64 KiB, and enough records for
	// many batches, all in order.
	var in strings.Builder
	var want []produceRec
	long := strings.Repeat("x", 300<<10)
	for i := range 2000 {
		v := fmt.Sprint(i)
		if i%500 == 7 {
			v += long
		}
		in.WriteString(v + "\n")
		want = append(want, produceRec{0, nil, []byte(v), nil})
	}
	runOK(t, in.String(), "produce", "t", "-d", dir)
	produceCompare(t, produceReadBack(t, dir, "t"), want)
}

func TestProduceVerbose(t *testing.T) {
	dir := t.TempDir()
	runOK(t, "", "topics", "create", "t", "-d", dir)
	if r := run(t, "a\nb\nc\n", nil, "produce", "t", "-d", dir); r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Errorf("produce without -v: exit %d, stdout %q, stderr %q; want 0 and silence", r.code, r.stdout, r.stderr)
	}
	r := run(t, "a\nb\nc\n", nil, "produce", "t", "-v", "-d", dir)
	if r.code != 0 || r.stdout != "" || r.stderr != "produced 3 record(s) to t\n" {
		t.Errorf("produce -v: exit %d, stdout %q, stderr %q; want 0 and a summary on stderr", r.code, r.stdout, r.stderr)
	}
}

func TestProduceTooLargeStopsWithWhatWasProduced(t *testing.T) {
	dir := t.TempDir()
	runOK(t, "", "topics", "create", "t", "-d", dir)
	huge := strings.Repeat("y", 2<<20)
	r := run(t, "first\nsecond\n"+huge+"\nnever\n", nil, "produce", "t", "-d", dir)
	topicsOneLine(t, r, 1, "line 3", "2 record(s) produced", "too large")
	produceCompare(t, produceReadBack(t, dir, "t"), []produceRec{
		{0, nil, []byte("first"), nil},
		{0, nil, []byte("second"), nil},
	})
}

func TestProduceJustOverTheLimitIsRefusedByTheLog(t *testing.T) {
	dir := t.TempDir()
	runOK(t, "", "topics", "create", "t", "-d", dir)
	// Under the reader's 1 MiB but over it once the header is encoded too:
	// the Log's own check refuses it.
	line := strings.Repeat("z", 1<<20-2)
	r := run(t, "ok\n"+line+"\n", nil, "produce", "t", "-H", "k=vvvvvvvv", "-d", dir)
	topicsOneLine(t, r, 1, "line 2", "1 record(s) produced", "too large")
}

func TestProduceUnknownTopic(t *testing.T) {
	dir := t.TempDir()
	runOK(t, "", "topics", "create", "orders", "-d", dir)
	r := run(t, "a\n", nil, "produce", "ordres", "-d", dir)
	topicsOneLine(t, r, 1, `"ordres"`, "unknown topic", "topics create")

	missing := filepath.Join(dir, "missing")
	r = run(t, "a\n", nil, "produce", "orders", "-d", missing)
	topicsOneLine(t, r, 1, missing)
}

func TestProduceInternalTopic(t *testing.T) {
	dir := t.TempDir()
	libTopicWithGroup(t, dir, "orders", "g")
	r := run(t, "junk\n", nil, "produce", "__consumer_offsets", "-d", dir)
	topicsOneLine(t, r, 2, "internal")
}

func TestProduceBadFlags(t *testing.T) {
	dir := t.TempDir()
	runOK(t, "", "topics", "create", "t", "-p", "2", "-d", dir)
	for _, tc := range []struct {
		name  string
		args  []string
		words []string
	}{
		{"no topic", []string{}, []string{"topic name"}},
		{"two topics", []string{"t", "u"}, []string{"topic name"}},
		{"partition not a number", []string{"t", "-p", "one"}, []string{"one"}},
		{"partition too high", []string{"t", "-p", "2"}, []string{"-p 2", "0 to 1"}},
		{"negative partition", []string{"t", "-p", "-1"}, []string{"-p -1"}},
		{"header without =", []string{"t", "-H", "novalue"}, []string{"novalue", "key=value"}},
		{"header without key", []string{"t", "-H", "=v"}, []string{"key=value"}},
		{"empty delimiter", []string{"t", "-D", ""}, []string{"-D", "empty"}},
		{"bad escape", []string{"t", "-D", `\q`}, []string{`\q`}},
		{"bad key escape", []string{"t", "-k", `\x4`}, []string{"hex"}},
		{"empty key delimiter", []string{"t", "-k", ""}, []string{"-k", "empty"}},
		{"unknown flag", []string{"t", "--acks", "all"}, []string{"--acks"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, "a\n", nil, append([]string{"produce", "-d", dir}, tc.args...)...)
			topicsOneLine(t, r, 2, tc.words...)
		})
	}
	produceCompare(t, produceReadBack(t, dir, "t"), nil)
}

func TestProduceLockedDirectory(t *testing.T) {
	dir := t.TempDir()
	l := libOpen(t, dir)
	top, err := l.CreateTopic("orders", eventlog.TopicConfig{})
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, "a\nb\n", nil, "produce", "orders", "-d", dir)
	topicsOneLine(t, r, 1, "in use")
	part, _ := top.Partition(0)
	if got := part.NextOffset(); got != 0 {
		t.Errorf("NextOffset() after a refused produce = %d; want 0", got)
	}
}
