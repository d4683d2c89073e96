package eventlog_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eventlog/eventlog"
)

var (
	crashSeed   = flag.Uint64("crash.seed", 0, "seed of TestCrashKeepsEveryAcknowledgedRecord; 0 picks one (the test logs it)")
	crashCycles = flag.Int("crash.cycles", 60, "SIGKILL cycles of TestCrashKeepsEveryAcknowledgedRecord")
)

// The crash test's log: the child and the parent open it with these
// options. Sync is left at its zero value, SyncAlways: the default is what
// is being tested. Segments are smaller than the largest records, so big
// records also exercise tidwall/wal starting new segment files.
const (
	crashTopic      = "crash"
	crashPartitions = 3
	crashWriters    = 4
)

func crashOptions(logger *slog.Logger) *eventlog.Options {
	return &eventlog.Options{
		SegmentSize:   4 << 20,
		MaxRecordSize: 16 << 20,
		Logger:        logger,
	}
}

// crashModes are the child's workloads: how often a record is big (1 to 8
// MiB rather than 10 to 200 bytes), and after how many acks at most the
// parent kills it (more acks when records are small, fewer when they are
// big, to keep the log, and the test, small).
var crashModes = map[string]struct {
	bigOneIn int // 0: never big
	maxAcks  int
}{
	"small": {0, 400},
	"mixed": {24, 120},
	"big":   {2, 8},
}

// crashValue returns the value the child run (cycle, seed, mode) produces
// as its record number i, and that record's key. The first 8 bytes say
// (cycle, i) in little endian, so the parent can tell any value in the log
// from all others and recompute it. The rest is a block of up to 64 KiB
// from a ChaCha8 stream seeded by (seed, i), repeated, with the block's
// number stamped at the start of every 4 KiB (the size of a page, where a
// write cut short by a kill tends to stop): no two pages of the log hold
// the same bytes, and making a big value costs little more than copying
// it, so the child spends its time writing.
func crashValue(cycle uint32, seed uint64, mode string, i uint32) (key, value []byte) {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	n := 10 + r.IntN(191)
	if m := crashModes[mode].bigOneIn; m > 0 && r.IntN(m) == 0 {
		n = 1<<20 + r.IntN(7<<20+1)
	}
	var chachaSeed [32]byte
	binary.LittleEndian.PutUint64(chachaSeed[:], seed)
	binary.LittleEndian.PutUint32(chachaSeed[8:], i)
	value = make([]byte, n)
	pool := value[8:min(n, 64<<10)]
	rand.NewChaCha8(chachaSeed).Read(pool)
	for at := len(pool) + 8; at < n; at += copy(value[at:], pool) {
	}
	for page := 4096; page+8 <= n; page += 4096 {
		binary.LittleEndian.PutUint64(value[page:], uint64(cycle)<<32|uint64(page/4096))
	}
	binary.LittleEndian.PutUint32(value, cycle)
	binary.LittleEndian.PutUint32(value[4:], i)
	return []byte("key-" + itoa(int(i%16))), value
}

func valueHash(v []byte) string {
	sum := sha256.Sum256(v)
	return hex.EncodeToString(sum[:16])
}

// crashRun is what the parent needs to recompute every value one child
// process produced.
type crashRun struct {
	seed uint64
	mode string
}

// TestCrashKeepsEveryAcknowledgedRecord runs a child process that appends
// to one log from several goroutines with the default options, printing a
// line for every record Produce acknowledged, and kills it with SIGKILL at a
// random moment: after a random number of acks and a random delay, which
// lands in the middle of writes of records up to 8 MiB, of fsyncs, of new
// segment files, and sometimes of the child's Open and its repair of the
// previous crash. After each kill the parent reopens the log and checks:
//
//   - Open succeeds (a torn tail is cut, never fatal);
//   - every acknowledged record is at its acknowledged offset with exactly
//     the acknowledged bytes (sha256);
//   - offsets run from 0 without a gap up to NextOffset;
//   - every record present, acknowledged or not, is whole: its key and value
//     are exactly ones the child produced, and none appears twice;
//   - records seen after one crash are still there, unchanged, after the
//     next (offsets are never reused).
//
// The children of all cycles append to the same directory, so the damage
// of each crash is what the next one starts from. A final pass reads the
// whole log again. Replay a failure with -crash.seed.
func TestCrashKeepsEveryAcknowledgedRecord(t *testing.T) {
	seed := *crashSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("crash test seed %d (replay with -crash.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	dir := t.TempDir()

	v := &crashVerifier{t: t, dir: dir}
	for cycle := range *crashCycles {
		run := crashRun{seed: rng.Uint64()}
		switch x := rng.IntN(10); {
		case x < 3:
			run.mode = "small"
		case x < 6:
			run.mode = "mixed"
		default:
			run.mode = "big"
		}
		// Kill after killAfter acks and then delay more; a tenth of the
		// time with no ack to wait for, and a delay long enough to land in
		// the child's start-up or Open.
		killAfter := rng.IntN(crashModes[run.mode].maxAcks + 1)
		delay := time.Duration(rng.IntN(30_000)) * time.Microsecond
		if rng.IntN(10) == 0 {
			killAfter, delay = 0, time.Duration(rng.IntN(400))*time.Millisecond
		}
		v.runs = append(v.runs, run)
		acks := runCrashChild(t, dir, uint32(cycle), run, killAfter, delay)
		v.check(uint32(cycle), acks)
		if t.Failed() {
			t.Fatalf("cycle %d (mode %s, kill after %d acks + %v) failed; replay with -crash.seed=%d",
				cycle, run.mode, killAfter, delay, seed)
		}
	}
	v.final()
	if t.Failed() {
		t.Fatalf("final check failed; replay with -crash.seed=%d", seed)
	}
	t.Logf("%d kill cycles: %d acknowledged records checked (%d MiB), %d more records written but not acknowledged and kept, "+
		"%d torn tails cut (%d bytes), log of %d records",
		*crashCycles, v.acks, v.ackedBytes>>20, v.unacked, v.cuts, v.cutBytes, v.total())
}

// ack is one acknowledged record, as the child printed it.
type ack struct {
	part int
	off  int64
	hash string
}

// runCrashChild starts a child appending to dir, reads its acks, kills it
// with SIGKILL after killAfter acks and delay, and returns every ack it
// printed, including those printed after the parent decided to kill it.
func runCrashChild(t *testing.T, dir string, cycle uint32, run crashRun, killAfter int, delay time.Duration) []ack {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCrashAppender$")
	cmd.Env = append(os.Environ(),
		"EVENTLOG_CRASH_DIR="+dir,
		"EVENTLOG_CRASH_CYCLE="+strconv.FormatUint(uint64(cycle), 10),
		"EVENTLOG_CRASH_SEED="+strconv.FormatUint(run.seed, 10),
		"EVENTLOG_CRASH_MODE="+run.mode,
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var killed, hung atomic.Bool
	kill := func() {
		killed.Store(true)
		cmd.Process.Kill() // SIGKILL
	}
	// A watchdog, not synchronization: a child that stops acknowledging
	// must fail the test, not hang it.
	watchdog := time.AfterFunc(time.Minute, func() {
		hung.Store(true)
		kill()
	})
	defer watchdog.Stop()

	var acks []ack
	var other []string
	if killAfter == 0 {
		time.Sleep(delay) // the randomness of the kill, not a wait for anything
		kill()
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		a, ok := parseAck(line)
		if !ok {
			other = append(other, line)
			continue
		}
		acks = append(acks, a)
		if len(acks) == killAfter && !killed.Load() {
			time.Sleep(delay) // the child keeps appending meanwhile
			kill()
		}
	}
	err = cmd.Wait()
	if hung.Load() {
		t.Fatalf("cycle %d: child still running a minute after it started (%d acks)\nstderr: %s", cycle, len(acks), stderr.Bytes())
	}
	var ee *exec.ExitError
	if !killed.Load() || !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("cycle %d: child ended by itself (%v) after %d acks; want it killed by us\nstdout: %s\nstderr: %s",
			cycle, err, len(acks), strings.Join(other, "\n"), stderr.Bytes())
	}
	if len(other) > 0 || stderr.Len() > 0 {
		t.Fatalf("cycle %d: child wrote unexpected output:\nstdout: %s\nstderr: %s",
			cycle, strings.Join(other, "\n"), stderr.Bytes())
	}
	return acks
}

// parseAck parses "ack <partition> <offset> <value-hash>".
func parseAck(line string) (ack, bool) {
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != "ack" {
		return ack{}, false
	}
	p, err1 := strconv.Atoi(f[1])
	off, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		return ack{}, false
	}
	return ack{part: p, off: off, hash: f[3]}, true
}

// crashVerifier holds what the parent knows about the log across cycles.
type crashVerifier struct {
	t    *testing.T
	dir  string
	runs []crashRun // by cycle

	// ids[p][off] is the (cycle<<32 | index) of the record at offset off of
	// partition p, for every record seen so far, acknowledged or not.
	ids   [crashPartitions][]uint64
	acked [crashPartitions]map[int64]string // offset → hash of every ack
	seen  map[uint64]bool                   // ids present in the log

	acks, ackedBytes, unacked, cuts, cutBytes int64
}

func (v *crashVerifier) total() (n int) {
	for p := range v.ids {
		n += len(v.ids[p])
	}
	return n
}

// check reopens the log after cycle's child was killed and checks it
// against every ack so far: the offsets below what the last check saw
// (minus a few, to look at the old tail again) were checked already and
// are compared by identity; newer ones are read and recomputed in full.
func (v *crashVerifier) check(cycle uint32, acks []ack) {
	t := v.t
	t.Helper()
	if v.seen == nil {
		v.seen = map[uint64]bool{}
	}
	for p := range v.acked {
		if v.acked[p] == nil {
			v.acked[p] = map[int64]string{}
		}
	}
	for _, a := range acks {
		if a.part < 0 || a.part >= crashPartitions {
			t.Fatalf("cycle %d: ack for partition %d", cycle, a.part)
		}
		if h, dup := v.acked[a.part][a.off]; dup {
			t.Errorf("cycle %d: offset %d/%d acknowledged twice (hash %s, then %s): an offset was reused", cycle, a.part, a.off, h, a.hash)
		}
		v.acked[a.part][a.off] = a.hash
	}
	v.acks += int64(len(acks))

	logs := &logCapture{}
	l, err := eventlog.Open(v.dir, crashOptions(slog.New(slog.NewJSONHandler(logs, nil))))
	if err != nil {
		t.Fatalf("cycle %d: Open after SIGKILL = %v; want a log that opens", cycle, err)
	}
	defer l.Close()
	v.countCuts(logs)
	if v.acks == 0 && !slices.Contains(l.Topics(), crashTopic) {
		return // every child so far was killed before it created the topic
	}
	for p := range crashPartitions {
		part := partition(t, l, crashTopic, p)
		from := max(0, int64(len(v.ids[p]))-3)
		v.checkPartition(fmt.Sprintf("cycle %d", cycle), part, from)
	}
}

// final reads the whole log once more.
func (v *crashVerifier) final() {
	l, err := eventlog.Open(v.dir, crashOptions(nil))
	if err != nil {
		v.t.Fatalf("final Open = %v", err)
	}
	defer l.Close()
	for p := range crashPartitions {
		v.checkPartition("final check", partition(v.t, l, crashTopic, p), 0)
	}
}

// checkPartition reads part from offset from to its end.
// when says which check this is, for messages.
func (v *crashVerifier) checkPartition(when string, part *eventlog.Partition, from int64) {
	t := v.t
	t.Helper()
	p := part.ID()
	ids := &v.ids[p]
	first, next := part.FirstOffset(), part.NextOffset()
	if first != 0 {
		t.Errorf("%s: partition %d FirstOffset = %d; want 0 (nothing was deleted)", when, p, first)
	}
	if next < int64(len(*ids)) {
		t.Errorf("%s: partition %d NextOffset = %d; want >= %d, the records seen after the previous crash", when, p, next, len(*ids))
	}
	for off := range v.acked[p] {
		if off >= next {
			t.Errorf("%s: acknowledged offset %d/%d is beyond NextOffset %d: lost", when, p, off, next)
		}
	}
	want := from
	for rec, err := range part.Read(context.Background(), from) {
		if err != nil {
			t.Errorf("%s: Read(%d/%d) at offset %d: %v", when, p, from, want, err)
			return
		}
		if rec.Offset != want {
			t.Errorf("%s: partition %d: offset %d follows %d", when, p, rec.Offset, want-1)
			return
		}
		want++
		id, err := v.checkValue(rec)
		if err != nil {
			t.Errorf("%s: record %d/%d is not one the child wrote: %v", when, p, rec.Offset, err)
			continue
		}
		if rec.Offset < int64(len(*ids)) {
			if old := (*ids)[rec.Offset]; old != id {
				t.Errorf("%s: record %d/%d is now %x, was %x after an earlier crash", when, p, rec.Offset, id, old)
			}
		} else {
			if v.seen[id] {
				t.Errorf("%s: record %x appears twice (again at %d/%d)", when, id, p, rec.Offset)
			}
			v.seen[id] = true
			*ids = append(*ids, id)
			if _, ok := v.acked[p][rec.Offset]; ok {
				v.ackedBytes += int64(len(rec.Value))
			} else {
				v.unacked++
			}
		}
		if h, ok := v.acked[p][rec.Offset]; ok && valueHash(rec.Value) != h {
			t.Errorf("%s: acknowledged record %d/%d has value hash %s; the child acknowledged %s",
				when, p, rec.Offset, valueHash(rec.Value), h)
		}
	}
	if want != next {
		t.Errorf("%s: Read(%d/%d) ended at %d; NextOffset is %d", when, p, from, want, next)
	}
}

// checkValue recomputes the record's key and value from the identity its
// value starts with and returns that identity.
func (v *crashVerifier) checkValue(rec eventlog.Record) (uint64, error) {
	if len(rec.Value) < 8 {
		return 0, fmt.Errorf("value of %d bytes", len(rec.Value))
	}
	cycle := binary.LittleEndian.Uint32(rec.Value)
	i := binary.LittleEndian.Uint32(rec.Value[4:])
	if int(cycle) >= len(v.runs) {
		return 0, fmt.Errorf("value names cycle %d of %d", cycle, len(v.runs))
	}
	run := v.runs[cycle]
	key, value := crashValue(cycle, run.seed, run.mode, i)
	if !bytes.Equal(rec.Key, key) || !bytes.Equal(rec.Value, value) {
		return 0, fmt.Errorf("key %q and %d value bytes differ from cycle %d record %d (key %q, %d bytes)",
			rec.Key, len(rec.Value), cycle, i, key, len(value))
	}
	return uint64(cycle)<<32 | uint64(i), nil
}

// countCuts counts the torn tails Open reported cutting.
func (v *crashVerifier) countCuts(logs *logCapture) {
	for _, line := range bytes.Split(logs.bytes(), []byte("\n")) {
		var entry struct {
			Msg      string `json:"msg"`
			CutBytes int64  `json:"cut_bytes"`
		}
		if json.Unmarshal(line, &entry) == nil && strings.Contains(entry.Msg, "torn tail") {
			v.cuts++
			v.cutBytes += entry.CutBytes
		}
	}
}

// logCapture is an io.Writer for a slog handler that may be written from
// several goroutines.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *logCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *logCapture) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes())
}

// TestHelperCrashAppender runs in the child process of
// TestCrashKeepsEveryAcknowledgedRecord: it opens the log in
// EVENTLOG_CRASH_DIR with the default sync policy and appends from several
// goroutines until it is killed, printing "ack <partition> <offset>
// <value-hash>" for each record only after Produce returned nil for it.
func TestHelperCrashAppender(t *testing.T) {
	dir := os.Getenv("EVENTLOG_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process of TestCrashKeepsEveryAcknowledgedRecord")
	}
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
		os.Exit(3)
	}
	cycle, err1 := strconv.ParseUint(os.Getenv("EVENTLOG_CRASH_CYCLE"), 10, 32)
	seed, err2 := strconv.ParseUint(os.Getenv("EVENTLOG_CRASH_SEED"), 10, 64)
	mode := os.Getenv("EVENTLOG_CRASH_MODE")
	if _, ok := crashModes[mode]; err1 != nil || err2 != nil || !ok {
		fail("bad child environment: %v %v mode %q", err1, err2, mode)
	}

	l, err := eventlog.Open(dir, crashOptions(nil))
	if err != nil {
		fail("child Open: %v", err)
	}
	if _, err := l.Topic(crashTopic); errors.Is(err, eventlog.ErrUnknownTopic) {
		if _, err := l.CreateTopic(crashTopic, eventlog.TopicConfig{Partitions: crashPartitions}); err != nil {
			fail("child CreateTopic: %v", err)
		}
	}
	p, err := l.NewProducer(nil)
	if err != nil {
		fail("child NewProducer: %v", err)
	}
	var (
		next  atomic.Uint32
		outMu sync.Mutex
		wg    sync.WaitGroup
	)
	for range crashWriters {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= 1<<20 {
					fail("child was not killed")
				}
				key, value := crashValue(uint32(cycle), seed, mode, i)
				rec, err := p.Produce(context.Background(), eventlog.Record{Topic: crashTopic, Key: key, Value: value})
				if err != nil {
					fail("child Produce: %v", err)
				}
				line := fmt.Sprintf("ack %d %d %s\n", rec.Partition, rec.Offset, valueHash(value))
				outMu.Lock()
				_, err = os.Stdout.WriteString(line) // one write(2): nothing is buffered in this process
				outMu.Unlock()
				if err != nil {
					fail("child write: %v", err)
				}
			}
		})
	}
	wg.Wait()
}
