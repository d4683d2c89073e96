package eventlog_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/eventlog/eventlog"
)

func TestMaxPollIntervalEvicts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := openMem(t)
		createTopic(t, l, "t", eventlog.TopicConfig{Partitions: 2})
		var revokedFromB bool
		g := group(t, l, "g", &eventlog.GroupOptions{
			Topics:          []string{"t"},
			MaxPollInterval: time.Minute,
			OnRevoked: func(_ context.Context, c *eventlog.Consumer, _ []eventlog.TopicPartition) {
				if c.ID() == "g-000002" {
					revokedFromB = true
				}
			},
		})
		a, b := join(t, g), join(t, g)
		settle(t, a)
		settle(t, b)
		produceTo(t, l, "t", 3, 0, 1)
		recsB := settle(t, b)
		if len(recsB) != 3 {
			t.Fatalf("b polled %d records; want 3", len(recsB))
		}

		time.Sleep(40 * time.Second)
		settle(t, a) // a keeps polling; b does not
		time.Sleep(21 * time.Second)
		synctest.Wait()

		if _, err := b.Poll(t.Context()); !errors.Is(err, eventlog.ErrEvicted) {
			t.Fatalf("Poll of a member silent for 61s = %v; want ErrEvicted", err)
		}
		err := b.Commit(t.Context(), recsB...)
		if !errors.Is(err, eventlog.ErrRebalanced) || !errors.Is(err, eventlog.ErrEvicted) {
			t.Fatalf("Commit of an evicted member = %v; want ErrRebalanced and ErrEvicted", err)
		}
		if b.Assignment() != nil {
			t.Errorf("evicted member's Assignment() = %v; want nil", b.Assignment())
		}
		if revokedFromB {
			t.Error("OnRevoked ran for an evicted member")
		}
		if err := b.Close(); err != nil {
			t.Errorf("Close of an evicted member = %v; want nil", err)
		}
		got := settle(t, a)
		if !slices.Equal(a.Assignment(), tps("t", 0, 1)) {
			t.Fatalf("survivor's Assignment() = %v; want both partitions", a.Assignment())
		}
		if offs := byPartition(got)[b0(recsB)]; !slices.Equal(offs, seq(0, 3)) {
			t.Errorf("survivor got %v of the evicted member's partition; want its uncommitted 0..2 again", offs)
		}

		// A member blocked in Poll is polling: it is never evicted for it.
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
		defer cancel()
		_, err = a.Poll(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Poll waiting 10 minutes = %v; want DeadlineExceeded, not eviction", err)
		}
		settle(t, a)
	})
}

// b0 returns the partition of the first record.
func b0(recs []eventlog.Record) int { return recs[0].Partition }

func TestRebalanceTimeoutEvictsAnOwnerThatHoldsOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := openMem(t)
		createTopic(t, l, "t", eventlog.TopicConfig{Partitions: 2})
		g := group(t, l, "g", &eventlog.GroupOptions{
			Topics:           []string{"t"},
			MaxPollInterval:  time.Hour,
			RebalanceTimeout: 10 * time.Second,
		})
		a := join(t, g)
		settle(t, a) // a owns both
		b := join(t, g)
		if recs := settle(t, b); len(recs) != 0 || len(b.Assignment()) != 0 {
			t.Fatalf("b took %v while a still owned it", b.Assignment())
		}
		// b waits in Poll; a never polls again, so never gives t/1 up.
		type result struct {
			recs []eventlog.Record
			err  error
		}
		done := make(chan result, 1)
		go func() {
			recs, err := b.Poll(t.Context())
			done <- result{recs, err}
		}()
		produceTo(t, l, "t", 1, 1)
		synctest.Wait()
		select {
		case r := <-done:
			t.Fatalf("b's Poll returned %v, %v before a gave t/1 up", keys(r.recs), r.err)
		default:
		}
		time.Sleep(10 * time.Second)
		r := <-done
		if r.err != nil || len(r.recs) != 1 || r.recs[0].Partition != 1 {
			t.Fatalf("b's Poll after a's eviction = %v, %v; want t/1 offset 0", keys(r.recs), r.err)
		}
		if _, err := a.Poll(t.Context()); !errors.Is(err, eventlog.ErrEvicted) {
			t.Errorf("a's Poll = %v; want ErrEvicted", err)
		}
		if !slices.Equal(b.Assignment(), tps("t", 0, 1)) {
			t.Errorf("b's Assignment() = %v; want both", b.Assignment())
		}
	})
}

func TestMemberThatNeverPollsIsEvicted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := openMem(t)
		createTopic(t, l, "t", eventlog.TopicConfig{})
		g := group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}}) // default: 5 minutes
		c := join(t, g)
		time.Sleep(5*time.Minute - time.Nanosecond)
		synctest.Wait()
		if got := l.Groups(); !slices.Equal(got, []string{"g"}) {
			t.Fatalf("Groups() just before MaxPollInterval = %v; want [g]", got)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if got := l.Groups(); len(got) != 0 {
			t.Errorf("Groups() after MaxPollInterval = %v; want none", got)
		}
		if _, err := c.Poll(t.Context()); !errors.Is(err, eventlog.ErrEvicted) {
			t.Errorf("Poll = %v; want ErrEvicted", err)
		}
	})
}

func TestRunRejoinsAfterEviction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := openMem(t)
		createTopic(t, l, "t", eventlog.TopicConfig{})
		produceTo(t, l, "t", 2, 0)
		g := group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}, MaxPollInterval: time.Minute, MaxPollRecords: 1})
		ctx, cancel := context.WithCancel(t.Context())
		var handled []int64
		err := g.Run(ctx, 1, func(_ context.Context, r eventlog.Record) error {
			handled = append(handled, r.Offset)
			if len(handled) == 1 {
				time.Sleep(2 * time.Minute) // too slow: evicted, then rejoins
			}
			if r.Offset == 1 {
				cancel()
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
		if !slices.Equal(handled, []int64{0, 0, 1}) {
			t.Errorf("handled %v; want [0 0 1]: offset 0 again after the eviction", handled)
		}
	})
}

// BenchmarkProduceToPoll measures the latency from Produce returning to
// Poll returning the record, one record at a time.
func BenchmarkProduceToPoll(b *testing.B) {
	for _, policy := range []eventlog.SyncPolicy{eventlog.SyncNever, eventlog.SyncAlways} {
		b.Run(policy.String(), func(b *testing.B) {
			l := openDir(b, b.TempDir(), &eventlog.Options{Sync: policy})
			createTopic(b, l, "t", eventlog.TopicConfig{})
			p := newProducer(b, l, nil)
			c := join(b, group(b, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}}))
			ctx := b.Context()
			var lat []time.Duration
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Produce(ctx, eventlog.Record{Topic: "t", Value: []byte("x")}); err != nil {
					b.Fatal(err)
				}
				at := time.Now()
				recs, err := c.Poll(ctx)
				if err != nil || len(recs) != 1 {
					b.Fatalf("Poll = %d records, %v", len(recs), err)
				}
				lat = append(lat, time.Since(at))
			}
			reportLatency(b, lat)
		})
	}
}

// BenchmarkProduceToPollConcurrent measures the same latency with the
// producer and the consumer on different goroutines, the consumer waiting
// in Poll when the record arrives: what a tailing service sees.
func BenchmarkProduceToPollConcurrent(b *testing.B) {
	for _, policy := range []eventlog.SyncPolicy{eventlog.SyncNever, eventlog.SyncAlways} {
		b.Run(policy.String(), func(b *testing.B) {
			l := openDir(b, b.TempDir(), &eventlog.Options{Sync: policy})
			createTopic(b, l, "t", eventlog.TopicConfig{})
			p := newProducer(b, l, nil)
			c := join(b, group(b, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}}))
			ctx := b.Context()
			acked := make(chan time.Time)
			got := make(chan time.Duration)
			var wg sync.WaitGroup
			wg.Go(func() {
				for at := range acked {
					recs, err := c.Poll(ctx)
					if err != nil || len(recs) != 1 {
						panic(fmt.Sprintf("Poll = %d records, %v", len(recs), err))
					}
					got <- time.Since(at)
				}
			})
			var lat []time.Duration
			for b.Loop() {
				if _, err := p.Produce(ctx, eventlog.Record{Topic: "t", Value: []byte("x")}); err != nil {
					b.Fatal(err)
				}
				acked <- time.Now()
				lat = append(lat, <-got)
			}
			close(acked)
			wg.Wait()
			reportLatency(b, lat)
		})
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkConsume measures consume throughput of a group with 1 and 4
// members over 8 partitions holding b.N records in total.
func BenchmarkConsume(b *testing.B) {
	for _, members := range []int{1, 4} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			l := openDir(b, b.TempDir(), &eventlog.Options{Sync: eventlog.SyncNever})
			const parts = 8
			createTopic(b, l, "t", eventlog.TopicConfig{Partitions: parts})
			fill(b, l, "t", b.N)
			g := group(b, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}})
			b.SetBytes(100)
			b.ReportAllocs()
			b.ResetTimer()
			ctx, cancel := context.WithCancel(b.Context())
			defer cancel()
			var (
				mu    sync.Mutex
				total int
				wg    sync.WaitGroup
			)
			cs := make([]*eventlog.Consumer, members)
			for i := range cs {
				cs[i] = join(b, g)
			}
			for _, c := range cs {
				wg.Go(func() {
					for {
						recs, err := c.Poll(ctx)
						if err != nil {
							return
						}
						mu.Lock()
						total += len(recs)
						if total >= b.N {
							cancel()
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
		})
	}
}

// BenchmarkFanOut16Groups measures one producer with 16 groups tailing
// the topic: ns/op is per record produced and consumed by all 16.
func BenchmarkFanOut16Groups(b *testing.B) {
	l := openDir(b, b.TempDir(), &eventlog.Options{Sync: eventlog.SyncNever})
	createTopic(b, l, "t", eventlog.TopicConfig{Partitions: 4})
	p := newProducer(b, l, nil)
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	const groups = 16
	var wg sync.WaitGroup
	doneAll := make(chan struct{}, groups)
	for i := range groups {
		c := join(b, group(b, l, "g"+itoa(i), &eventlog.GroupOptions{Topics: []string{"t"}}))
		wg.Go(func() {
			n := 0
			for {
				recs, err := c.Poll(ctx)
				if err != nil {
					return
				}
				if n += len(recs); n >= b.N {
					doneAll <- struct{}{}
					return
				}
			}
		})
	}
	b.SetBytes(100)
	b.ResetTimer()
	b.ReportAllocs()
	val := make([]byte, 100)
	for range b.N {
		p.ProduceAsync(eventlog.Record{Topic: "t", Value: val}, nil)
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	for range groups {
		<-doneAll
	}
	b.StopTimer()
	cancel()
	wg.Wait()
}

// fill appends n records of 100 bytes, spread over the topic's partitions.
func fill(b *testing.B, l *eventlog.Log, topic string, n int) {
	b.Helper()
	p := newProducer(b, l, nil)
	val := make([]byte, 100)
	var mu sync.Mutex
	var first error
	for range n {
		p.ProduceAsync(eventlog.Record{Topic: topic, Value: val}, func(_ eventlog.Record, err error) {
			if err != nil {
				mu.Lock()
				first = cmpErr(first, err)
				mu.Unlock()
			}
		})
	}
	if err := p.Flush(b.Context()); err != nil {
		b.Fatal(err)
	}
	if first != nil {
		b.Fatal(first)
	}
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// TestCommittedOffsetsSurviveSIGKILL kills a child process that polls and
// commits, at a random moment, and checks that every commit it reported
// (Commit returned nil) is still there after reopening.
func TestCommittedOffsetsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("EVENTLOG_GROUP_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set EVENTLOG_GROUP_SEED to replay)", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	dir := t.TempDir()
	l := openDir(t, dir, nil)
	produceN(t, l, "t", 3000)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var last int64
	for cycle := range 3 {
		killAfter := 1 + rng.IntN(40)
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperGroupCommitter$")
		cmd.Env = append(os.Environ(), "EVENTLOG_GROUP_DIR="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		lines := 0
		for sc.Scan() {
			off, ok := strings.CutPrefix(sc.Text(), "committed ")
			if !ok {
				continue
			}
			n, err := strconv.ParseInt(off, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			if cycle > 0 && lines == 0 && n < last {
				t.Errorf("cycle %d: first commit %d below the previous cycle's %d", cycle, n, last)
			}
			last = n
			if lines++; lines == killAfter {
				cmd.Process.Kill() // SIGKILL: no Close, no flush
				break
			}
		}
		cmd.Wait()
		if lines == 0 {
			t.Fatalf("cycle %d: the child reported no commit", cycle)
		}

		l := openDir(t, dir, nil)
		g := group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}})
		got, ok := g.Committed("t", 0)
		if !ok || got < last {
			t.Fatalf("cycle %d: committed offset after SIGKILL = %d (%v); want at least %d, acknowledged before the kill", cycle, got, ok, last)
		}
		last = got
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHelperGroupCommitter is the child of TestCommittedOffsetsSurviveSIGKILL.
func TestHelperGroupCommitter(t *testing.T) {
	dir := os.Getenv("EVENTLOG_GROUP_DIR")
	if dir == "" {
		t.Skip("helper process")
	}
	l, err := eventlog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := l.ConsumerGroup("g", &eventlog.GroupOptions{Topics: []string{"t"}, MaxPollRecords: 7})
	if err != nil {
		t.Fatal(err)
	}
	c, err := g.Join(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for {
		recs, err := c.Poll(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Commit(t.Context(), recs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(os.Stdout, "committed %d\n", recs[len(recs)-1].Offset+1)
	}
}

// A member whose position retention deleted restarts at FirstOffset; the
// records there are readable at once, so Poll must return them rather
// than wait for an append that may never come.
func TestPollAfterRetentionOvertookPositionReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := eventlog.Open("", &eventlog.Options{InMemory: true, SegmentSize: 1024})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		createTopic(t, l, "t", eventlog.TopicConfig{Retention: time.Hour})
		produceTo(t, l, "t", 100, 0)
		g := group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}, MaxPollRecords: 10, MaxPollInterval: 24 * time.Hour})
		c := join(t, g)
		if got := offsets(settle(t, c)); !slices.Equal(got, seq(0, 10)) {
			t.Fatalf("first Poll = %v; want 0..9", got)
		}
		// Drop what the member read ahead of its position, so the next
		// Poll must go to storage.
		if err := c.Seek("t", 0, 10); err != nil {
			t.Fatal(err)
		}
		time.Sleep(61 * time.Minute) // retention drops all but the newest segment
		synctest.Wait()
		first := partition(t, l, "t", 0).FirstOffset()
		if first <= 10 {
			t.Fatalf("FirstOffset after retention = %d; want past the member's position 10", first)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		recs, err := c.Poll(ctx)
		if err != nil || len(recs) == 0 || recs[0].Offset != first {
			t.Fatalf("Poll after retention = %v, %v; want records from %d at once", offsets(recs), err, first)
		}
	})
}

// Run's member rejoins after eviction; if that Join fails (here: the Log
// closed meanwhile) Run must return the error, not crash.
func TestRunReturnsWhenRejoinFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := eventlog.Open("", &eventlog.Options{InMemory: true})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		createTopic(t, l, "t", eventlog.TopicConfig{})
		produceTo(t, l, "t", 1, 0)
		g := group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}, MaxPollInterval: time.Minute})
		release := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- g.Run(t.Context(), 1, func(context.Context, eventlog.Record) error {
				<-release
				return nil
			})
		}()
		time.Sleep(2 * time.Minute) // the member, stuck in its handler, is evicted
		synctest.Wait()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		close(release) // Poll now reports the eviction, and Join fails
		if err := <-done; !errors.Is(err, eventlog.ErrClosed) {
			t.Errorf("Run after its rejoin failed = %v; want ErrClosed", err)
		}
	})
}

// Poll documents ErrUnknownTopic when a topic of the group is deleted; a
// Poll waiting for records must be woken by the deletion.
func TestPollEndsWhenItsTopicIsDeleted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := openMem(t)
		createTopic(t, l, "t", eventlog.TopicConfig{})
		c := join(t, group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}}))
		settle(t, c)
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			_, err := c.Poll(ctx)
			done <- err
		}()
		synctest.Wait() // Poll is waiting
		if err := l.DeleteTopic("t"); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, eventlog.ErrUnknownTopic) {
			t.Errorf("Poll after its topic was deleted = %v; want ErrUnknownTopic", err)
		}
		if _, err := c.Poll(t.Context()); !errors.Is(err, eventlog.ErrUnknownTopic) {
			t.Errorf("next Poll = %v; want ErrUnknownTopic", err)
		}
	})
}

// A member that polled records which retention then removed can still
// commit them, and the next owner starts at what is left.
func TestCommitAfterRetentionRemovedTheRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := eventlog.Open("", &eventlog.Options{InMemory: true, SegmentSize: 1024})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		createTopic(t, l, "t", eventlog.TopicConfig{RetentionBytes: 2048})
		produceN(t, l, "t", 10)
		g := group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}, MaxPollRecords: 10})
		c := join(t, g)
		recs, err := c.Poll(t.Context())
		if err != nil || len(recs) != 10 {
			t.Fatalf("Poll = %d records, %v", len(recs), err)
		}
		produceN(t, l, "t", 200) // pushes the first records past RetentionBytes
		time.Sleep(time.Minute)
		synctest.Wait()
		first := partition(t, l, "t", 0).FirstOffset()
		if first <= 10 {
			t.Fatalf("FirstOffset = %d; retention should have removed the polled records", first)
		}
		if err := c.Commit(t.Context(), recs...); err != nil {
			t.Fatalf("Commit of records retention removed = %v, want nil", err)
		}
		c.Close()
		c = join(t, g)
		next, err := c.Poll(t.Context())
		if err != nil || len(next) == 0 || next[0].Offset != first {
			t.Fatalf("next owner's first Poll starts at %v (err %v), want FirstOffset %d", offsets(next), err, first)
		}
	})
}
