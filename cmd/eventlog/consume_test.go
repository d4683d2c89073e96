package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eventlog/eventlog"
)

// consumeBase is the time of the first record the tests write; the others
// follow a second apart unless a test says otherwise.
var consumeBase = time.UnixMilli(1_700_000_000_000)

// consumeWrite creates topic with partitions partitions in a new data
// directory and appends recs to it, each to its Partition, in order. It
// closes the Log before returning: the CLI needs the directory's lock.
func consumeWrite(t *testing.T, topic string, partitions int, recs []eventlog.Record) string {
	t.Helper()
	dir := t.TempDir()
	l, err := eventlog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.CreateTopic(topic, eventlog.TopicConfig{Partitions: partitions}); err != nil {
		t.Fatal(err)
	}
	p, err := l.NewProducer(&eventlog.ProducerOptions{Partitioner: eventlog.ManualPartitioner()})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		r.Topic = topic
		p.ProduceAsync(r, func(_ eventlog.Record, err error) {
			if err != nil {
				t.Error(err)
			}
		})
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// consumeValues returns n records for partition 0 with values v0, v1, ...
// and times a second apart from consumeBase.
func consumeValues(n int) []eventlog.Record {
	recs := make([]eventlog.Record, n)
	for i := range recs {
		recs[i] = eventlog.Record{Value: fmt.Appendf(nil, "v%d", i), Time: consumeBase.Add(time.Duration(i) * time.Second)}
	}
	return recs
}

// consumeLines returns "v<from>\n" up to "v<to-1>\n".
func consumeLines(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "v%d\n", i)
	}
	return b.String()
}

func TestConsumeOffsets(t *testing.T) {
	dir := consumeWrite(t, "orders", 1, consumeValues(10))
	at4 := consumeBase.Add(4 * time.Second)
	for _, c := range []struct {
		offset string // "" for none
		want   string
	}{
		{"", consumeLines(0, 10)},
		{"beginning", consumeLines(0, 10)},
		{"end", ""},
		{"0", consumeLines(0, 10)},
		{"3", consumeLines(3, 10)},
		{"9", consumeLines(9, 10)},
		{"10", ""}, // the next offset: valid, nothing yet
		{"-3", consumeLines(7, 10)},
		{"-0", ""},
		{"-10", consumeLines(0, 10)},
		{"-30", consumeLines(0, 10)}, // clamped to the start
		{"@" + strconv.FormatInt(at4.UnixMilli(), 10), consumeLines(4, 10)},
		{"@" + strconv.FormatInt(at4.UnixMilli()-1, 10), consumeLines(4, 10)},
		{"@" + strconv.FormatInt(at4.UnixMilli()+1, 10), consumeLines(5, 10)},
		{"s@" + strconv.FormatInt(at4.UnixMilli(), 10), consumeLines(4, 10)},
		{"@" + at4.UTC().Format(time.RFC3339), consumeLines(4, 10)},
		{"@" + at4.In(time.FixedZone("x", 5*3600)).Format(time.RFC3339Nano), consumeLines(4, 10)},
		{"@0", consumeLines(0, 10)},
		{"@" + strconv.FormatInt(consumeBase.Add(time.Hour).UnixMilli(), 10), ""}, // after the last record
	} {
		args := []string{"consume", "orders", "-e", "-d", dir}
		if c.offset != "" {
			args = append(args, "-o", c.offset)
		}
		if got := runOK(t, "", args...); got != c.want {
			t.Errorf("consume -o %q printed %q; want %q", c.offset, got, c.want)
		}
	}
}

func TestConsumeOffsetOutOfRange(t *testing.T) {
	dir := consumeWrite(t, "orders", 1, consumeValues(10))
	r := run(t, "", nil, "consume", "orders", "-e", "-o", "11", "-d", dir)
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "offsets 0 to 9") || !strings.Contains(r.stderr, "out of range") {
		t.Fatalf("consume -o 11 on offsets 0..9: exit %d, stdout %q, stderr %q; want exit 1 naming the range", r.code, r.stdout, r.stderr)
	}
	if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("error is not one line: %q", r.stderr)
	}
}

func TestConsumeBadOffsetIsAUsageError(t *testing.T) {
	dir := consumeWrite(t, "orders", 1, consumeValues(1))
	for _, o := range []string{"", "start", "1x", "+3", "--3", "-x", "-", "@", "@yesterday", "s@", "e@5", "3.5"} {
		r := run(t, "", nil, "consume", "orders", "-e", "-d", dir, "-o="+o)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "-o") {
			t.Errorf("consume -o %q: exit %d, stdout %q, stderr %q; want exit 2 and a message about -o", o, r.code, r.stdout, r.stderr)
		}
	}
}

// consumeInterleaved returns records over three partitions whose times
// interleave across partitions, and their values in time order.
func consumeInterleaved() ([]eventlog.Record, []string) {
	var recs []eventlog.Record
	var byTime []string
	for i := range 12 {
		p := (i * 7) % 3 // partitions 0, 1, 2, 0, ... in a scrambled order
		v := fmt.Sprintf("p%d-t%02d", p, i)
		recs = append(recs, eventlog.Record{Partition: p, Value: []byte(v), Time: consumeBase.Add(time.Duration(i) * time.Second)})
		byTime = append(byTime, v)
	}
	return recs, byTime
}

func TestConsumeMergesPartitionsInTimeOrder(t *testing.T) {
	recs, byTime := consumeInterleaved()
	dir := consumeWrite(t, "orders", 3, recs)
	got := strings.Split(strings.TrimSuffix(runOK(t, "", "consume", "orders", "-e", "-d", dir), "\n"), "\n")
	if !slices.Equal(got, byTime) {
		t.Fatalf("consume -e over 3 partitions printed %q; want every record in time order %q", got, byTime)
	}
}

func TestConsumeKeepsPartitionOrderWhenTimesDisagree(t *testing.T) {
	// Times need not grow with offsets: a producer may set them. The merge
	// must still print each partition in offset order.
	var recs []eventlog.Record
	for i := range 10 {
		recs = append(recs, eventlog.Record{Partition: i % 2, Value: fmt.Appendf(nil, "%d", i),
			Time: consumeBase.Add(time.Duration((i*37)%10) * time.Second)})
	}
	dir := consumeWrite(t, "orders", 2, recs)
	out := runOK(t, "", "consume", "orders", "-e", "-f", `%p %o\n`, "-d", dir)
	next := map[string]int{}
	n := 0
	for _, line := range strings.Fields(strings.ReplaceAll(out, " ", "/")) {
		p, o, _ := strings.Cut(line, "/")
		if o != strconv.Itoa(next[p]) {
			t.Fatalf("partition %s: offset %s after %d; want offset order; output:\n%s", p, o, next[p]-1, out)
		}
		next[p]++
		n++
	}
	if n != 10 {
		t.Fatalf("printed %d records; want 10:\n%s", n, out)
	}
}

func TestConsumePartition(t *testing.T) {
	recs, _ := consumeInterleaved()
	dir := consumeWrite(t, "orders", 3, recs)
	var want string
	for _, r := range recs {
		if r.Partition == 1 {
			want += string(r.Value) + "\n"
		}
	}
	if got := runOK(t, "", "consume", "orders", "-e", "-p", "1", "-d", dir); got != want {
		t.Errorf("consume -p 1 printed %q; want %q", got, want)
	}
	if got := runOK(t, "", "consume", "orders", "-e", "-p", "1", "-o", "-1", "-f", `%p:%o:%s\n`, "-d", dir); got != "1:3:p1-t10\n" {
		t.Errorf("consume -p 1 -o -1 printed %q; want the last record of partition 1", got)
	}
	for _, p := range []string{"3", "-1", "x"} {
		r := run(t, "", nil, "consume", "orders", "-e", "-p", p, "-d", dir)
		if r.code != 2 || r.stdout != "" {
			t.Errorf("consume -p %s on 3 partitions: exit %d, stdout %q, stderr %q; want exit 2", p, r.code, r.stdout, r.stderr)
		}
	}
}

func TestConsumeCount(t *testing.T) {
	dir := consumeWrite(t, "orders", 1, consumeValues(10))
	if got := runOK(t, "", "consume", "orders", "-e", "-c", "4", "-d", dir); got != consumeLines(0, 4) {
		t.Errorf("consume -c 4 printed %q; want the first 4", got)
	}
	if got := runOK(t, "", "consume", "orders", "-e", "-c", "40", "-d", dir); got != consumeLines(0, 10) {
		t.Errorf("consume -c 40 -e printed %q; want all 10, then exit at the end", got)
	}
	// Without -e, -c alone ends the run once the count is reached.
	if got := runOK(t, "", "consume", "orders", "-c", "10", "-o", "-10", "-d", dir); got != consumeLines(0, 10) {
		t.Errorf("consume -c 10 (following) printed %q; want all 10, then exit", got)
	}
	for _, c := range []string{"0", "-2", "x"} {
		if r := run(t, "", nil, "consume", "orders", "-e", "-c", c, "-d", dir); r.code != 2 {
			t.Errorf("consume -c %s: exit %d, stderr %q; want 2", c, r.code, r.stderr)
		}
	}
}

func TestConsumeFormat(t *testing.T) {
	tm := consumeBase.Add(1234 * time.Millisecond)
	dir := consumeWrite(t, "orders", 2, []eventlog.Record{
		{Partition: 1, Key: []byte("k1"), Value: []byte("héllo"), Time: tm,
			Headers: []eventlog.Header{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("")}, {Key: "a", Value: []byte("x=y")}}},
		{Partition: 1, Key: nil, Value: []byte{}, Time: tm},
		{Partition: 1, Key: []byte{}, Value: nil, Time: tm},
	})
	ms := strconv.FormatInt(tm.UnixMilli(), 10)
	for _, c := range []struct{ format, want string }{
		{`%t|%p|%o|%k|%s|%T|%h|%K|%S|%%\n`,
			"orders|1|0|k1|héllo|" + ms + "|a=1,b=,a=x=y|2|6|%\n" +
				"orders|1|1|||" + ms + "||-1|0|%\n" +
				"orders|1|2|||" + ms + "||0|-1|%\n"},
		{`%o\t%s\r\n`, "0\théllo\r\n1\t\r\n2\t\r\n"},
		{`\\%o\x2c\0`, "\\0,\x00\\1,\x00\\2,\x00"},
		{`%o`, "012"},
		{`100%% %s;`, "100% héllo;100% ;100% ;"},
		{``, ""},
	} {
		if got := runOK(t, "", "consume", "orders", "-e", "-f", c.format, "-d", dir); got != c.want {
			t.Errorf("consume -f %q printed %q; want %q", c.format, got, c.want)
		}
	}
	for _, f := range []string{`%x`, `%`, `%s\`, `\q`, `\x4`, `\xzz`} {
		r := run(t, "", nil, "consume", "orders", "-e", "-f", f, "-d", dir)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "-f") {
			t.Errorf("consume -f %q: exit %d, stdout %q, stderr %q; want exit 2 and a message about -f", f, r.code, r.stdout, r.stderr)
		}
	}
	if r := run(t, "", nil, "consume", "orders", "-e", "-f", "%s", "--json", "-d", dir); r.code != 2 {
		t.Errorf("consume -f with --json: exit %d, stderr %q; want 2", r.code, r.stderr)
	}
}

// consumeJSONLine is a --json line as a reader decodes it, keeping null
// apart from "".
type consumeJSONLine struct {
	Topic         string  `json:"topic"`
	Partition     int     `json:"partition"`
	Offset        int64   `json:"offset"`
	Timestamp     int64   `json:"timestamp"`
	Time          string  `json:"time"`
	Key           *string `json:"key"`
	KeyEncoding   string  `json:"key_encoding"`
	Value         *string `json:"value"`
	ValueEncoding string  `json:"value_encoding"`
	Headers       []struct {
		Key           string  `json:"key"`
		KeyEncoding   string  `json:"key_encoding"`
		Value         *string `json:"value"`
		ValueEncoding string  `json:"value_encoding"`
	} `json:"headers"`
}

// consumeJSONDecode turns a --json field back into bytes: nil for null,
// base64-decoded if its encoding says so.
func consumeJSONDecode(t *testing.T, s *string, encoding string) []byte {
	t.Helper()
	switch {
	case s == nil:
		return nil
	case encoding == "base64":
		b, err := base64.StdEncoding.DecodeString(*s)
		if err != nil {
			t.Fatalf("bad base64 %q: %v", *s, err)
		}
		return b
	case encoding != "":
		t.Fatalf("unknown encoding %q", encoding)
	}
	return []byte(*s)
}

func TestConsumeJSONRoundTrip(t *testing.T) {
	binary := []byte{0xff, 0x00, 0xfe, 'a'}
	recs := []eventlog.Record{
		{Key: []byte("order-1"), Value: []byte(`{"total":5} <&>`), Headers: []eventlog.Header{{Key: "source", Value: []byte("cli")}}},
		{Key: binary, Value: binary, Headers: []eventlog.Header{{Key: "bin", Value: binary}, {Key: "empty", Value: []byte{}}}},
		{Key: nil, Value: []byte{}},
		{Key: []byte{}, Value: nil}, // a tombstone
		{Partition: 1, Value: []byte("línea\n\t\"quoted\"\x00")},
	}
	for i := range recs {
		recs[i].Time = consumeBase.Add(time.Duration(i)*time.Second + 5*time.Millisecond)
	}
	dir := consumeWrite(t, "orders", 2, recs)
	out := runOK(t, "", "consume", "orders", "-e", "--json", "-d", dir)

	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(recs) {
		t.Fatalf("--json printed %d lines; want %d:\n%s", len(lines), len(recs), out)
	}
	if !strings.Contains(lines[0], `<&>`) {
		t.Errorf("line %q escapes <, & or >; want them as they are", lines[0])
	}
	if !strings.Contains(lines[2], `"key":null`) || !strings.Contains(lines[2], `"value":""`) ||
		!strings.Contains(lines[3], `"key":""`) || !strings.Contains(lines[3], `"value":null`) {
		t.Errorf("null and empty are not told apart:\n%s\n%s", lines[2], lines[3])
	}
	if !strings.Contains(lines[1], `"key_encoding":"base64"`) || strings.Contains(lines[0], "_encoding") {
		t.Errorf("base64 markers wrong:\n%s\n%s", lines[0], lines[1])
	}
	if !strings.Contains(lines[2], `"headers":[]`) {
		t.Errorf("a record without headers has no \"headers\":[]: %s", lines[2])
	}
	for i, line := range lines {
		var j consumeJSONLine
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&j); err != nil {
			t.Fatalf("line %d %q: %v", i, line, err)
		}
		w := recs[i] // in time order, so in the order written
		wantOff := int64(i)
		if w.Partition == 1 {
			wantOff = 0
		}
		if j.Topic != "orders" || j.Partition != w.Partition || j.Offset != wantOff {
			t.Errorf("line %d: topic %s partition %d offset %d; want orders %d %d", i, j.Topic, j.Partition, j.Offset, w.Partition, wantOff)
		}
		if j.Timestamp != w.Time.UnixMilli() {
			t.Errorf("line %d: timestamp %d; want %d", i, j.Timestamp, w.Time.UnixMilli())
		}
		if tm, err := time.Parse(time.RFC3339Nano, j.Time); err != nil || !tm.Equal(w.Time) {
			t.Errorf("line %d: time %q (%v); want %v", i, j.Time, err, w.Time.UTC())
		}
		if k := consumeJSONDecode(t, j.Key, j.KeyEncoding); !produceSameBytes(k, w.Key) {
			t.Errorf("line %d: key %s; want %s", i, produceShow(k), produceShow(w.Key))
		}
		if v := consumeJSONDecode(t, j.Value, j.ValueEncoding); !produceSameBytes(v, w.Value) {
			t.Errorf("line %d: value %s; want %s", i, produceShow(v), produceShow(w.Value))
		}
		var hs []eventlog.Header
		for _, h := range j.Headers {
			hs = append(hs, eventlog.Header{Key: h.Key, Value: consumeJSONDecode(t, h.Value, h.ValueEncoding)})
		}
		if !slices.EqualFunc(hs, w.Headers, produceSameHeader) {
			t.Errorf("line %d: headers %s; want %s", i, produceShowHeaders(hs), produceShowHeaders(w.Headers))
		}
	}
}

func TestConsumeReadsWhatTheCLIProduced(t *testing.T) {
	dir := consumeWrite(t, "orders", 1, nil)
	runOK(t, "order-1:created\norder-2:paid\n", "produce", "orders", "-k", ":", "-H", "src=cli", "-d", dir)
	got := runOK(t, "", "consume", "orders", "-e", "-f", `%k=%s [%h]\n`, "-d", dir)
	if want := "order-1=created [src=cli]\norder-2=paid [src=cli]\n"; got != want {
		t.Fatalf("consume printed %q; want %q", got, want)
	}
}

func TestConsumeUnknownTopicAndLockedDir(t *testing.T) {
	dir := consumeWrite(t, "orders", 1, consumeValues(1))
	r := run(t, "", nil, "consume", "nope", "-e", "-d", dir)
	if r.code != 1 || !strings.Contains(r.stderr, `"nope"`) || !strings.Contains(r.stderr, "unknown topic") {
		t.Errorf("consume of a missing topic: exit %d, stderr %q; want 1 naming it", r.code, r.stderr)
	}
	if r := run(t, "", nil, "consume", "-e", "-d", dir); r.code != 2 {
		t.Errorf("consume without a topic: exit %d; want 2", r.code)
	}

	libOpen(t, dir) // holds the directory's lock
	r = run(t, "", nil, "consume", "orders", "-e", "-d", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "in use") || r.stdout != "" {
		t.Errorf("consume of a directory another Log holds: exit %d, stderr %q; want 1 saying it is in use", r.code, r.stderr)
	}
}

// consumeProc is a run of the CLI that a test reads from as it goes.
type consumeProc struct {
	cmd    *exec.Cmd
	pipe   io.ReadCloser // stdout
	stdout *bufio.Reader // reads pipe
	stderr *bytes.Buffer // read it only once cmd has exited
}

// consumeStart starts the CLI with args. The process is killed if the test
// ends first.
func consumeStart(t *testing.T, args ...string) *consumeProc {
	t.Helper()
	cmd := exec.Command(cliBinary, args...)
	cmd.Env = cleanEnv()
	p := &consumeProc{cmd: cmd, stderr: &bytes.Buffer{}}
	cmd.Stderr = p.stderr
	var err error
	if p.pipe, err = cmd.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.stdout = bufio.NewReader(p.pipe)
	// A process that hangs is killed, so a read of its stdout fails
	// instead of hanging the test.
	watchdog := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	t.Cleanup(func() {
		watchdog.Stop()
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return p
}

// readLines reads n lines of the process's stdout.
func (p *consumeProc) readLines(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	for range n {
		line, err := p.stdout.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", b.String(), err)
		}
		b.WriteString(line)
	}
	return b.String()
}

// interrupt checks that the process is still running (following), sends
// it sig and checks that it exits 0 without printing anything more.
func (p *consumeProc) interrupt(t *testing.T, sig os.Signal) {
	t.Helper()
	rest := make(chan []byte, 1)
	exited := make(chan error, 1)
	go func() {
		b, _ := io.ReadAll(p.stdout) // until the process closes stdout
		rest <- b
		exited <- p.cmd.Wait()
	}()
	select {
	case b := <-rest:
		err := <-exited
		t.Fatalf("consume exited (%v) after printing the records and %q; want it to wait for more (stderr %q)", err, b, p.stderr)
	case <-time.After(300 * time.Millisecond):
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-rest:
		if err := <-exited; err != nil {
			t.Fatalf("after %v: %v, stderr %q; want exit 0", sig, err, p.stderr)
		}
		if len(b) != 0 || p.stderr.Len() != 0 {
			t.Fatalf("after %v printed %q, stderr %q; want nothing", sig, b, p.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("consume did not exit within 30s of %v", sig)
	}
}

func TestConsumeFollowsUntilInterrupted(t *testing.T) {
	dir := consumeWrite(t, "orders", 3, consumeValues(5))
	p := consumeStart(t, "consume", "orders", "-d", dir)
	if got := p.readLines(t, 5); got != consumeLines(0, 5) {
		t.Fatalf("following consume printed %q first; want the existing records %q", got, consumeLines(0, 5))
	}
	p.interrupt(t, os.Interrupt)
}

// consumeCommitted returns the committed offsets of group on every
// partition of topic, as the library sees them (-1: none), and the
// partitions' next offsets.
func consumeCommitted(t *testing.T, dir, group, topic string) (committed, next []int64) {
	t.Helper()
	l, g := libGroup(t, dir, group, topic)
	defer l.Close()
	top, err := l.Topic(topic)
	if err != nil {
		t.Fatal(err)
	}
	for i := range top.Partitions() {
		off, ok := g.Committed(topic, i)
		if !ok {
			off = -1
		}
		p, err := top.Partition(i)
		if err != nil {
			t.Fatal(err)
		}
		committed, next = append(committed, off), append(next, p.NextOffset())
	}
	return committed, next
}

// consumeGroupRecs returns 20 records over 2 partitions.
func consumeGroupRecs() []eventlog.Record {
	recs := consumeValues(20)
	for i := range recs {
		recs[i].Partition = i % 2
	}
	return recs
}

func TestConsumeGroupRunsContinueWithoutOverlapOrGap(t *testing.T) {
	dir := consumeWrite(t, "orders", 2, consumeGroupRecs())
	args := []string{"consume", "orders", "-G", "billing", "-e", "-f", `%p/%o %s\n`, "-d", dir}

	first := runOK(t, "", append(args, "-c", "7")...)
	committed, _ := consumeCommitted(t, dir, "billing", "orders")
	var sum int64
	for _, c := range committed {
		sum += max(c, 0)
	}
	if strings.Count(first, "\n") != 7 || sum != 7 {
		t.Fatalf("first run printed %q and committed %v; want 7 records, and committed offsets summing to 7", first, committed)
	}
	second := runOK(t, "", append(args, "-c", "5")...)
	third := runOK(t, "", args...) // the rest, then exit at the end
	fourth := runOK(t, "", args...)
	if strings.Count(second, "\n") != 5 || fourth != "" {
		t.Fatalf("second run printed %q (want 5 records), fourth %q (want nothing)", second, fourth)
	}

	var all []string
	for _, out := range []string{first, second, third} {
		all = append(all, strings.Split(strings.TrimSuffix(out, "\n"), "\n")...)
	}
	slices.Sort(all)
	var want []string
	for i := range 20 {
		want = append(want, fmt.Sprintf("%d/%d v%d", i%2, i/2, i))
	}
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Fatalf("three runs printed %q; want every record once: %q", all, want)
	}
	committed, next := consumeCommitted(t, dir, "billing", "orders")
	if !slices.Equal(committed, next) {
		t.Fatalf("committed offsets %v; want the ends %v", committed, next)
	}
}

func TestConsumeGroupStartsNewPartitionsAtEnd(t *testing.T) {
	dir := consumeWrite(t, "orders", 2, consumeGroupRecs())
	if got := runOK(t, "", "consume", "orders", "-G", "late", "-o", "end", "-e", "-d", dir); got != "" {
		t.Fatalf("consume -G late -o end -e printed %q; want nothing", got)
	}
	// An existing group's commits win over -o.
	runOK(t, "", "consume", "orders", "-G", "early", "-c", "3", "-e", "-d", dir)
	if got := runOK(t, "", "consume", "orders", "-G", "early", "-o", "end", "-e", "-d", dir); strings.Count(got, "\n") != 17 {
		t.Fatalf("second run of group early with -o end printed %q; want the 17 records after its commits", got)
	}
	for _, bad := range [][]string{{"-o", "3"}, {"-o", "-2"}, {"-o", "@0"}, {"-p", "0"}} {
		r := run(t, "", nil, append([]string{"consume", "orders", "-G", "g", "-e", "-d", dir}, bad...)...)
		if r.code != 2 || !strings.Contains(r.stderr, "-G") {
			t.Errorf("consume -G with %q: exit %d, stderr %q; want exit 2 explaining -G", bad, r.code, r.stderr)
		}
	}
	if r := run(t, "", nil, "consume", "orders", "-G", "bad/name", "-e", "-d", dir); r.code != 2 {
		t.Errorf("consume -G bad/name: exit %d, stderr %q; want 2", r.code, r.stderr)
	}
}

func TestConsumeGroupFollowCommitsWhatItPrinted(t *testing.T) {
	dir := consumeWrite(t, "orders", 2, consumeGroupRecs())
	p := consumeStart(t, "consume", "orders", "-G", "billing", "-d", dir)
	p.readLines(t, 20)
	p.interrupt(t, syscall.SIGTERM)
	committed, next := consumeCommitted(t, dir, "billing", "orders")
	if !slices.Equal(committed, next) {
		t.Fatalf("after Ctrl-C, committed offsets %v; want the ends %v", committed, next)
	}
}

func TestConsumeStopsQuietlyWhenStdoutCloses(t *testing.T) {
	// Enough records to overflow a pipe's buffer many times over.
	recs := make([]eventlog.Record, 20000)
	for i := range recs {
		recs[i].Value = bytes.Repeat([]byte{'a' + byte(i%26)}, 100)
	}
	dir := consumeWrite(t, "orders", 1, recs)
	for _, args := range [][]string{
		{"consume", "orders", "-e", "-d", dir},
		{"consume", "orders", "-d", dir},                     // following
		{"consume", "orders", "-e", "-G", "pipe", "-d", dir}, // as a group member
	} {
		p := consumeStart(t, args...)
		p.readLines(t, 1)
		p.pipe.Close() // as head does when it has read enough
		if err := p.cmd.Wait(); err != nil || p.stderr.Len() != 0 {
			t.Errorf("%q with stdout closed: %v, stderr %q; want exit 0 and no message", args, err, p.stderr)
		}
	}
	// What the group member printed before the pipe closed may be printed
	// again (at-least-once), but it committed only what it wrote.
	committed, next := consumeCommitted(t, dir, "pipe", "orders")
	if committed[0] >= next[0] {
		t.Errorf("group committed %d of %d records it could not print; want fewer", committed[0], next[0])
	}
}

func TestConsumeGroupCountCommitsExactlyThePrinted(t *testing.T) {
	// More records than one Poll returns (500), so -c ends in the middle of
	// a Poll's batch and must commit only the records it printed.
	recs := make([]eventlog.Record, 1200)
	for i := range recs {
		recs[i] = eventlog.Record{Partition: i % 2, Value: fmt.Appendf(nil, "v%d", i)}
	}
	dir := consumeWrite(t, "orders", 2, recs)
	args := []string{"consume", "orders", "-G", "billing", "-e", "-f", `%p/%o\n`, "-d", dir}
	first := runOK(t, "", append(args, "-c", "700")...)
	committed, _ := consumeCommitted(t, dir, "billing", "orders")
	if n := strings.Count(first, "\n"); n != 700 || committed[0]+committed[1] != 700 {
		t.Fatalf("consume -G -c 700 printed %d records and committed %v; want 700 of both", n, committed)
	}
	seen := map[string]bool{}
	for _, line := range strings.Fields(first + runOK(t, "", args...)) {
		if seen[line] {
			t.Fatalf("record %s printed twice", line)
		}
		seen[line] = true
	}
	if len(seen) != 1200 {
		t.Fatalf("two runs printed %d distinct records; want 1200", len(seen))
	}
}
