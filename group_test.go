package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eventlog/eventlog"
)

// group returns a consumer group of l, failing the test on error.
func group(t testing.TB, l *eventlog.Log, name string, opts *eventlog.GroupOptions) *eventlog.ConsumerGroup {
	t.Helper()
	g, err := l.ConsumerGroup(name, opts)
	if err != nil {
		t.Fatalf("ConsumerGroup(%q): %v", name, err)
	}
	return g
}

func join(t testing.TB, g *eventlog.ConsumerGroup) *eventlog.Consumer {
	t.Helper()
	c, err := g.Join(t.Context())
	if err != nil {
		t.Fatalf("Join: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// produceTo appends n records with values "v<i>" to each of the given
// partitions of topic.
func produceTo(t testing.TB, l *eventlog.Log, topic string, n int, parts ...int) {
	t.Helper()
	p := newProducer(t, l, &eventlog.ProducerOptions{Partitioner: eventlog.ManualPartitioner()})
	for _, part := range parts {
		for i := range n {
			if _, err := p.Produce(t.Context(), eventlog.Record{Topic: topic, Partition: part, Value: []byte("v" + itoa(i))}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// settle runs a Poll with an ended context: it gives up revoked
// partitions and takes assigned ones, and returns what is there to read
// without waiting.
func settle(t testing.TB, c *eventlog.Consumer) []eventlog.Record {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	recs, err := c.Poll(ctx)
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Poll: %v", err)
	}
	return recs
}

// pollN polls c until it has n records, failing after 10s.
func pollN(t testing.TB, c *eventlog.Consumer, n int) []eventlog.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var got []eventlog.Record
	for len(got) < n {
		recs, err := c.Poll(ctx)
		if err != nil {
			t.Fatalf("Poll after %d of %d records: %v", len(got), n, err)
		}
		got = append(got, recs...)
	}
	return got
}

type tpo struct {
	tp  eventlog.TopicPartition
	off int64
}

func keys(recs []eventlog.Record) []tpo {
	var out []tpo
	for _, r := range recs {
		out = append(out, tpo{eventlog.TopicPartition{Topic: r.Topic, Partition: r.Partition}, r.Offset})
	}
	return out
}

func byPartition(recs []eventlog.Record) map[int][]int64 {
	m := make(map[int][]int64)
	for _, r := range recs {
		m[r.Partition] = append(m[r.Partition], r.Offset)
	}
	return m
}

func tps(topic string, parts ...int) []eventlog.TopicPartition {
	var out []eventlog.TopicPartition
	for _, p := range parts {
		out = append(out, eventlog.TopicPartition{Topic: topic, Partition: p})
	}
	return out
}

func TestGroupFanOut(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "orders", eventlog.TopicConfig{Partitions: 4})
	produceTo(t, l, "orders", 25, 0, 1, 2, 3)
	for _, name := range []string{"billing", "shipping", "audit"} {
		c := join(t, group(t, l, name, &eventlog.GroupOptions{Topics: []string{"orders"}, MaxPollRecords: 7}))
		got := pollN(t, c, 100)
		if len(got) != 100 {
			t.Fatalf("group %s got %d records, want 100", name, len(got))
		}
		for part, offs := range byPartition(got) {
			if !slices.Equal(offs, seq(0, 25)) {
				t.Errorf("group %s partition %d offsets = %v; want 0..24 once each, in order", name, part, offs)
			}
		}
		if recs := settle(t, c); len(recs) != 0 {
			t.Errorf("group %s: Poll after everything = %d records; want none", name, len(recs))
		}
	}
}

func TestPollIsFairAcrossPartitions(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{Partitions: 4})
	produceTo(t, l, "t", 100, 0, 1, 2, 3)
	c := join(t, group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}, MaxPollRecords: 40}))
	recs := settle(t, c)
	if len(recs) != 40 {
		t.Fatalf("Poll = %d records; want MaxPollRecords=40", len(recs))
	}
	for part, offs := range byPartition(recs) {
		if len(offs) != 10 {
			t.Errorf("partition %d got %d of 40 records; want 10 (fair share)", part, len(offs))
		}
	}
}

func TestGroupSharing(t *testing.T) {
	kinds(t, func(t *testing.T, open func(t *testing.T) *eventlog.Log) {
		l := open(t)
		createTopic(t, l, "jobs", eventlog.TopicConfig{Partitions: 6})
		g := group(t, l, "workers", &eventlog.GroupOptions{Topics: []string{"jobs"}, MaxPollRecords: 5})
		members := []*eventlog.Consumer{join(t, g), join(t, g), join(t, g)}
		produceTo(t, l, "jobs", 20, 0, 1, 2, 3, 4, 5)

		var (
			mu   sync.Mutex
			seen = make(map[tpo]string)
			dups []tpo
			wg   sync.WaitGroup
			errs = make(chan error, len(members))
		)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		for _, c := range members {
			wg.Go(func() {
				for {
					recs, err := c.Poll(ctx)
					if err != nil {
						if ctx.Err() == nil {
							errs <- err
						}
						return
					}
					if err := c.Commit(ctx, recs...); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					for _, k := range keys(recs) {
						if _, ok := seen[k]; ok {
							dups = append(dups, k)
						}
						seen[k] = c.ID()
					}
					if len(seen) == 120 {
						cancel()
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(seen) != 120 || len(dups) > 0 {
			t.Fatalf("members saw %d distinct records (want 120), duplicates %v", len(seen), dups)
		}
		owners := make(map[eventlog.TopicPartition]map[string]bool)
		for k, id := range seen {
			if owners[k.tp] == nil {
				owners[k.tp] = make(map[string]bool)
			}
			owners[k.tp][id] = true
		}
		perMember := make(map[string]int)
		for tp, ids := range owners {
			if len(ids) != 1 {
				t.Errorf("partition %v delivered by %d members; want 1", tp, len(ids))
			}
			for id := range ids {
				perMember[id]++
			}
		}
		for id, n := range perMember {
			if n != 2 {
				t.Errorf("member %s owned %d partitions; want 2 of 6", id, n)
			}
		}
		assigned := 0
		for _, c := range members {
			assigned += len(c.Assignment())
		}
		if assigned != 6 {
			t.Errorf("Assignment()s cover %d partitions; want 6", assigned)
		}
	})
}

func TestRebalanceOnJoinRedeliversUncommitted(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{Partitions: 2})
	produceTo(t, l, "t", 10, 0, 1)

	var events []string
	var mu sync.Mutex
	note := func(s string) { mu.Lock(); events = append(events, s); mu.Unlock() }
	var a *eventlog.Consumer
	var commitInRevoke error
	opts := &eventlog.GroupOptions{
		Topics: []string{"t"},
		OnAssigned: func(_ context.Context, c *eventlog.Consumer, got []eventlog.TopicPartition) {
			note(fmt.Sprintf("%s assigned %v", c.ID(), got))
		},
		OnRevoked: func(ctx context.Context, c *eventlog.Consumer, lost []eventlog.TopicPartition) {
			note(fmt.Sprintf("%s revoked %v", c.ID(), lost))
			if c == a {
				// Still the owner here: committing offset 3 of partition 1 must work.
				commitInRevoke = c.CommitOffsets(context.WithoutCancel(ctx), map[eventlog.TopicPartition]int64{{Topic: "t", Partition: 1}: 3})
			}
		},
	}
	g := group(t, l, "g", opts)
	a = join(t, g)
	if got := pollN(t, a, 20); len(got) != 20 {
		t.Fatalf("first member got %d records; want 20", len(got))
	}
	if err := a.CommitOffsets(t.Context(), map[eventlog.TopicPartition]int64{{Topic: "t", Partition: 0}: 10}); err != nil {
		t.Fatal(err)
	}

	b := join(t, g) // partition 1 (the highest) moves to b under StickyAssignor
	if recs := settle(t, b); len(recs) != 0 {
		t.Fatalf("new member read %v before the old owner gave the partition up", keys(recs))
	}
	if got := a.Assignment(); !slices.Equal(got, tps("t", 0, 1)) {
		t.Fatalf("old owner's Assignment() before its Poll = %v; want both partitions still", got)
	}
	settle(t, a) // gives up partition 1
	if commitInRevoke != nil {
		t.Fatalf("Commit inside OnRevoked: %v", commitInRevoke)
	}
	if got := a.Assignment(); !slices.Equal(got, tps("t", 0)) {
		t.Fatalf("old owner's Assignment() after its Poll = %v; want [t/0]", got)
	}
	// Fenced: a no longer owns partition 1.
	err := a.CommitOffsets(t.Context(), map[eventlog.TopicPartition]int64{{Topic: "t", Partition: 1}: 10})
	if !errors.Is(err, eventlog.ErrRebalanced) {
		t.Fatalf("commit of a revoked partition = %v; want ErrRebalanced", err)
	}
	if off, _ := g.Committed("t", 1); off != 3 {
		t.Fatalf("committed offset of t/1 = %d after a fenced commit; want 3", off)
	}

	recs := settle(t, b)
	if got, want := byPartition(recs)[1], seq(3, 10); !slices.Equal(got, want) {
		t.Fatalf("new owner got partition 1 offsets %v; want the uncommitted %v again", got, want)
	}
	want := []string{
		"g-000001 assigned [{t 0} {t 1}]",
		"g-000001 revoked [{t 1}]",
		"g-000002 assigned [{t 1}]",
	}
	if !slices.Equal(events, want) {
		t.Errorf("callbacks = %q; want %q", events, want)
	}
}

func TestRebalanceOnLeave(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{Partitions: 2})
	g := group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}})
	a, b := join(t, g), join(t, g)
	settle(t, a)
	settle(t, b)
	if got := append(a.Assignment(), b.Assignment()...); !slices.Equal(got, tps("t", 0, 1)) {
		t.Fatalf("assignments %v + %v; want t/0 and t/1 split", a.Assignment(), b.Assignment())
	}
	produceTo(t, l, "t", 5, 0, 1)
	gotB := pollN(t, b, 5)
	if err := b.Commit(t.Context(), gotB[:2]...); err != nil { // offsets 0,1 processed; 2..4 not
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); !errors.Is(err, eventlog.ErrClosed) {
		t.Errorf("second Close = %v; want ErrClosed", err)
	}
	if _, err := b.Poll(t.Context()); !errors.Is(err, eventlog.ErrClosed) {
		t.Errorf("Poll after Close = %v; want ErrClosed", err)
	}
	if err := b.Commit(t.Context(), gotB...); !errors.Is(err, eventlog.ErrClosed) {
		t.Errorf("Commit after Close = %v; want ErrClosed", err)
	}

	recs := pollN(t, a, 8)
	byP := byPartition(recs)
	if !slices.Equal(byP[0], seq(0, 5)) || !slices.Equal(byP[1], seq(2, 5)) {
		t.Errorf("remaining member got %v; want t/0 0..4 and t/1 2..4 (from the committed offset)", byP)
	}
}

// A rebalance while members poll, commit and produce concurrently: every
// record is processed, and no partition is ever delivered by two members
// at once (checked by the owner each record is claimed by).
func TestRebalanceUnderLoadLosesNothing(t *testing.T) {
	l := openMem(t)
	const parts, perPart = 8, 300
	createTopic(t, l, "t", eventlog.TopicConfig{Partitions: parts})
	g := group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}, MaxPollRecords: 16})

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var (
		mu       sync.Mutex
		seen     = make(map[tpo]bool)
		inFlight = make(map[eventlog.TopicPartition]string) // who is between Poll and Commit
		errs     []error
	)
	fail := func(err error) {
		if ctx.Err() != nil {
			return // stopping: everything was seen, or another failure came first
		}
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
		cancel()
	}
	member := func(stop <-chan struct{}) {
		c, err := g.Join(ctx)
		if err != nil {
			fail(err)
			return
		}
		defer c.Close()
		for {
			select {
			case <-stop:
				return
			default:
			}
			recs, err := c.Poll(ctx)
			if err != nil {
				if ctx.Err() == nil {
					fail(err)
				}
				return
			}
			mu.Lock()
			for _, k := range keys(recs) {
				if id, ok := inFlight[k.tp]; ok && id != c.ID() {
					errs = append(errs, fmt.Errorf("%v delivered to %s while %s held it", k, c.ID(), id))
				}
				inFlight[k.tp] = c.ID()
				seen[k] = true
			}
			if len(seen) == parts*perPart {
				cancel()
			}
			mu.Unlock()
			if err := c.Commit(ctx, recs...); err != nil && ctx.Err() == nil {
				fail(err)
				return
			}
			mu.Lock()
			for _, k := range keys(recs) {
				if inFlight[k.tp] == c.ID() {
					delete(inFlight, k.tp)
				}
			}
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { member(nil) })
	wg.Go(func() { // the producer
		p, err := l.NewProducer(&eventlog.ProducerOptions{Partitioner: eventlog.ManualPartitioner()})
		if err != nil {
			fail(err)
			return
		}
		defer p.Close()
		for i := range perPart {
			for part := range parts {
				if _, err := p.Produce(ctx, eventlog.Record{Topic: "t", Partition: part, Value: []byte(itoa(i))}); err != nil {
					fail(err)
					return
				}
			}
			if i == perPart/3 {
				wg.Go(func() { member(nil) }) // a join mid-stream
			}
			if i == perPart/2 {
				stop := make(chan struct{})
				wg.Go(func() { member(stop) })
				close(stop) // and a leave
			}
		}
	})
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if len(seen) != parts*perPart {
		t.Fatalf("saw %d distinct records; want %d", len(seen), parts*perPart)
	}
}

func TestCommittedOffsetsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	l := openDir(t, dir, nil)
	createTopic(t, l, "t", eventlog.TopicConfig{Partitions: 2})
	produceTo(t, l, "t", 10, 0, 1)
	c := join(t, group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}}))
	recs := pollN(t, c, 20)
	var commit []eventlog.Record
	for _, r := range recs {
		if r.Offset < 4+int64(r.Partition) { // t/0 up to 3, t/1 up to 4
			commit = append(commit, r)
		}
	}
	if err := c.Commit(t.Context(), commit...); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = openDir(t, dir, nil)
	if got := l.Topics(); !slices.Equal(got, []string{"t"}) {
		t.Errorf("Topics() after reopen = %v; want [t]: internal topics are hidden", got)
	}
	if got := l.Groups(); !slices.Equal(got, []string{"g"}) {
		t.Errorf("Groups() after reopen = %v; want [g]", got)
	}
	g := group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}})
	lag, err := g.Lag()
	if err != nil {
		t.Fatal(err)
	}
	wantLag := []eventlog.PartitionLag{
		{Topic: "t", Partition: 0, Committed: 4, End: 10, Lag: 6},
		{Topic: "t", Partition: 1, Committed: 5, End: 10, Lag: 5},
	}
	if !slices.Equal(lag, wantLag) {
		t.Errorf("Lag() = %+v; want %+v", lag, wantLag)
	}
	got := byPartition(pollN(t, join(t, g), 11))
	if !slices.Equal(got[0], seq(4, 10)) || !slices.Equal(got[1], seq(5, 10)) {
		t.Errorf("after reopen got %v; want t/0 from 4 and t/1 from 5", got)
	}
}

func TestStartAtLatestAndEarliest(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{})
	produceTo(t, l, "t", 5, 0)
	early := join(t, group(t, l, "early", &eventlog.GroupOptions{Topics: []string{"t"}}))
	late := join(t, group(t, l, "late", &eventlog.GroupOptions{Topics: []string{"t"}, StartAt: eventlog.Latest}))
	if recs := settle(t, late); len(recs) != 0 {
		t.Fatalf("Latest group read %v of the records before it took the partition", keys(recs))
	}
	produceTo(t, l, "t", 1, 0) // offset 5
	if got := offsets(pollN(t, late, 1)); !slices.Equal(got, []int64{5}) {
		t.Errorf("Latest group got %v; want [5]", got)
	}
	if got := offsets(pollN(t, early, 6)); !slices.Equal(got, seq(0, 6)) {
		t.Errorf("Earliest group got %v; want 0..5", got)
	}
}

func TestSeekAndSeekToTime(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{})
	p := newProducer(t, l, nil)
	noon := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 10 {
		if _, err := p.Produce(t.Context(), eventlog.Record{Topic: "t", Time: noon.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	c := join(t, group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}}))
	if err := c.Seek("t", 0, 3); !errors.Is(err, eventlog.ErrRebalanced) {
		t.Errorf("Seek before owning the partition = %v; want ErrRebalanced", err)
	}
	pollN(t, c, 10)
	if err := c.Seek("t", 0, 7); err != nil {
		t.Fatal(err)
	}
	if got := offsets(pollN(t, c, 3)); !slices.Equal(got, seq(7, 10)) {
		t.Errorf("after Seek(7) got %v; want 7..9", got)
	}
	if err := c.SeekToTime("t", 0, noon.Add(150*time.Second)); err != nil {
		t.Fatal(err)
	}
	if pos, _ := c.Position("t", 0); pos != 3 {
		t.Errorf("Position after SeekToTime(12:02:30) = %d; want 3", pos)
	}
	if got := offsets(pollN(t, c, 7)); !slices.Equal(got, seq(3, 10)) {
		t.Errorf("after SeekToTime got %v; want 3..9", got)
	}
	if err := c.Seek("t", 0, 11); !errors.Is(err, eventlog.ErrOffsetOutOfRange) {
		t.Errorf("Seek(11) past the end = %v; want ErrOffsetOutOfRange", err)
	}
	if err := c.Seek("t", 1, 0); !errors.Is(err, eventlog.ErrRebalanced) {
		t.Errorf("Seek of a partition not owned = %v; want ErrRebalanced", err)
	}
}

func TestPauseResume(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{Partitions: 2})
	c := join(t, group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}}))
	settle(t, c)
	if err := c.Pause(tps("t", 1)...); err != nil {
		t.Fatal(err)
	}
	produceTo(t, l, "t", 3, 0, 1)
	if got := byPartition(pollN(t, c, 3)); len(got[1]) != 0 || len(got[0]) != 3 {
		t.Fatalf("Poll with t/1 paused = %v; want only t/0", got)
	}
	if got := settle(t, c); len(got) != 0 {
		t.Fatalf("Poll with t/1 paused = %v; want nothing", keys(got))
	}
	if err := c.Pause(tps("t", 7)...); !errors.Is(err, eventlog.ErrRebalanced) {
		t.Errorf("Pause of a partition not owned = %v; want ErrRebalanced", err)
	}
	if err := c.Resume(tps("t", 1)...); err != nil {
		t.Fatal(err)
	}
	if got := byPartition(pollN(t, c, 3)); !slices.Equal(got[1], seq(0, 3)) {
		t.Errorf("Poll after Resume = %v; want t/1 0..2", got)
	}
}

func TestPollWakesOnAppendAndClose(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "a", eventlog.TopicConfig{})
	createTopic(t, l, "b", eventlog.TopicConfig{Partitions: 2})
	c := join(t, group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"a", "b"}}))
	got := make(chan []eventlog.Record)
	go func() {
		recs, _ := c.Poll(t.Context())
		got <- recs
	}()
	produceTo(t, l, "b", 1, 1)
	if recs := <-got; len(recs) != 1 || recs[0].Topic != "b" || recs[0].Partition != 1 {
		t.Fatalf("Poll woken by an append = %v; want b/1 offset 0", keys(recs))
	}
	done := make(chan error)
	go func() {
		_, err := c.Poll(t.Context())
		done <- err
	}()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, eventlog.ErrClosed) {
		t.Errorf("Poll ended by Close = %v; want ErrClosed", err)
	}
}

func TestPollEndsWithLogClose(t *testing.T) {
	l, err := eventlog.Open("", &eventlog.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	createTopic(t, l, "t", eventlog.TopicConfig{})
	c := join(t, group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}}))
	done := make(chan error)
	go func() {
		_, err := c.Poll(t.Context())
		done <- err
	}()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, eventlog.ErrClosed) {
		t.Errorf("Poll ended by Log.Close = %v; want ErrClosed", err)
	}
	if _, err := c.Poll(t.Context()); !errors.Is(err, eventlog.ErrClosed) {
		t.Errorf("Poll after Log.Close = %v; want ErrClosed", err)
	}
}

func TestGroupsLagAndDeleteGroup(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{Partitions: 2})
	produceTo(t, l, "t", 4, 0, 1)
	if got := l.Groups(); len(got) != 0 {
		t.Fatalf("Groups() of a new log = %v; want none", got)
	}
	g := group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}})
	lag, _ := g.Lag()
	if lag[0].Committed != -1 || lag[0].Lag != 4 || lag[1].Lag != 4 {
		t.Errorf("Lag() before any commit = %+v; want Committed -1, Lag 4 each", lag)
	}
	lg := group(t, l, "late", &eventlog.GroupOptions{Topics: []string{"t"}, StartAt: eventlog.Latest})
	if lag, _ := lg.Lag(); lag[0].Lag != 0 {
		t.Errorf("Lag() of a Latest group without commits = %+v; want 0", lag)
	}
	c := join(t, g)
	if got := l.Groups(); !slices.Equal(got, []string{"g"}) {
		t.Errorf("Groups() with a member = %v; want [g]", got)
	}
	recs := pollN(t, c, 8)
	if err := c.Commit(t.Context(), recs...); err != nil {
		t.Fatal(err)
	}
	if lag, _ := g.Lag(); lag[0].Lag != 0 || lag[1].Committed != 4 {
		t.Errorf("Lag() after committing everything = %+v; want 0", lag)
	}
	if err := l.DeleteGroup("g"); !errors.Is(err, eventlog.ErrGroupNotEmpty) {
		t.Errorf("DeleteGroup with a member = %v; want ErrGroupNotEmpty", err)
	}
	c.Close()
	if err := l.DeleteGroup("g"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Join(t.Context()); !errors.Is(err, eventlog.ErrUnknownGroup) {
		t.Errorf("Join of a deleted group = %v; want ErrUnknownGroup", err)
	}
	if err := l.DeleteGroup("g"); !errors.Is(err, eventlog.ErrUnknownGroup) {
		t.Errorf("second DeleteGroup = %v; want ErrUnknownGroup", err)
	}
	if got := l.Groups(); len(got) != 0 {
		t.Errorf("Groups() after DeleteGroup = %v; want none", got)
	}
	// A group of the same name starts afresh.
	c2 := join(t, group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}}))
	if got := pollN(t, c2, 8); len(got) != 8 {
		t.Errorf("recreated group got %d records; want all 8 again", len(got))
	}
}

func TestConsumerGroupValidation(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{})
	createTopic(t, l, "u", eventlog.TopicConfig{})
	for _, tc := range []struct {
		name string
		opts *eventlog.GroupOptions
		want error
	}{
		{"g", nil, eventlog.ErrInvalidConfig},
		{"g", &eventlog.GroupOptions{}, eventlog.ErrInvalidConfig},
		{"g/x", &eventlog.GroupOptions{Topics: []string{"t"}}, eventlog.ErrInvalidName},
		{"g", &eventlog.GroupOptions{Topics: []string{"nope"}}, eventlog.ErrUnknownTopic},
		{"g", &eventlog.GroupOptions{Topics: []string{"t", "t"}}, eventlog.ErrInvalidConfig},
		{"g", &eventlog.GroupOptions{Topics: []string{"__consumer_offsets"}}, eventlog.ErrInvalidName},
		{"g", &eventlog.GroupOptions{Topics: []string{"t"}, MaxPollRecords: -1}, eventlog.ErrInvalidConfig},
		{"g", &eventlog.GroupOptions{Topics: []string{"t"}, StartAt: 7}, eventlog.ErrInvalidConfig},
	} {
		if _, err := l.ConsumerGroup(tc.name, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("ConsumerGroup(%q, %+v) = %v; want %v", tc.name, tc.opts, err, tc.want)
		}
	}
	g1 := group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t", "u"}})
	if g2 := group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"u", "t"}}); g2 != g1 {
		t.Error("ConsumerGroup with the same name and topics returned a different group")
	}
	if _, err := l.ConsumerGroup("g", &eventlog.GroupOptions{Topics: []string{"t"}}); !errors.Is(err, eventlog.ErrInvalidConfig) {
		t.Errorf("ConsumerGroup with other topics = %v; want ErrInvalidConfig", err)
	}
}

func TestInternalTopicsAreReserved(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{})
	group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}}) // creates __consumer_offsets
	if _, err := l.CreateTopic("__mine", eventlog.TopicConfig{}); !errors.Is(err, eventlog.ErrInvalidName) {
		t.Errorf("CreateTopic(__mine) = %v; want ErrInvalidName", err)
	}
	if err := l.DeleteTopic("__consumer_offsets"); !errors.Is(err, eventlog.ErrInvalidName) {
		t.Errorf("DeleteTopic(__consumer_offsets) = %v; want ErrInvalidName", err)
	}
	p := newProducer(t, l, nil)
	if _, err := p.Produce(t.Context(), eventlog.Record{Topic: "__consumer_offsets", Value: []byte("x")}); !errors.Is(err, eventlog.ErrInvalidName) {
		t.Errorf("Produce to __consumer_offsets = %v; want ErrInvalidName", err)
	}
	if got := l.Topics(); !slices.Equal(got, []string{"t"}) {
		t.Errorf("Topics() = %v; want [t]", got)
	}
}

func TestAutoCommit(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{})
	produceTo(t, l, "t", 10, 0)
	g := group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}, AutoCommit: true, MaxPollRecords: 4})
	c := join(t, g)
	pollN(t, c, 4)
	if _, ok := g.Committed("t", 0); ok {
		t.Fatal("committed before the next Poll; AutoCommit commits the previous Poll's records at the next")
	}
	pollN(t, c, 4)
	if off, _ := g.Committed("t", 0); off != 4 {
		t.Fatalf("committed after the second Poll = %d; want 4", off)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if off, _ := g.Committed("t", 0); off != 8 {
		t.Fatalf("committed after Close = %d; want 8", off)
	}
}

func TestRun(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{Partitions: 4})
	produceTo(t, l, "t", 50, 0, 1, 2, 3)
	g := group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}})

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var mu sync.Mutex
	seen := make(map[tpo]int)
	err := g.Run(ctx, 3, func(_ context.Context, r eventlog.Record) error {
		mu.Lock()
		defer mu.Unlock()
		seen[tpo{eventlog.TopicPartition{Topic: r.Topic, Partition: r.Partition}, r.Offset}]++
		if len(seen) == 200 {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Run = %v; want nil after ctx ended", err)
	}
	if len(seen) != 200 {
		t.Fatalf("Run handled %d distinct records; want 200", len(seen))
	}
	lag, _ := g.Lag()
	for _, pl := range lag {
		if pl.Lag != 0 {
			t.Errorf("after Run, %+v; want everything committed", pl)
		}
	}

	// A failing handler stops Run with its error; what it accepted is committed.
	boom := errors.New("boom")
	produceTo(t, l, "t", 1, 2) // t/2 offset 50
	err = g.Run(t.Context(), 2, func(_ context.Context, r eventlog.Record) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Run with a failing handler = %v; want boom", err)
	}
	if off, _ := g.Committed("t", 2); off != 50 {
		t.Errorf("committed t/2 after the failure = %d; want 50 (the failed record is redelivered)", off)
	}
}

// Under Latest, a partition the group has committed nothing for starts at
// the end when the group first takes it. Records appended after that belong
// to the group: a rebalance before anything was committed must not skip
// them by starting the new owner at the then-current end.
func TestLatestGroupSkipsNothingOnRebalance(t *testing.T) {
	l := openMem(t)
	createTopic(t, l, "t", eventlog.TopicConfig{Partitions: 2})
	produceTo(t, l, "t", 3, 0, 1) // before the group: not for a Latest group
	g := group(t, l, "g", &eventlog.GroupOptions{Topics: []string{"t"}, StartAt: eventlog.Latest})
	a := join(t, g)
	if recs := settle(t, a); len(recs) != 0 {
		t.Fatalf("Latest member read %v", keys(recs))
	}
	produceTo(t, l, "t", 2, 0, 1) // offsets 3 and 4: the group's to read
	b := join(t, g)
	settle(t, a) // a gives up one partition, having committed nothing
	got := byPartition(settle(t, b))
	bp := b.Assignment()
	if len(bp) != 1 {
		t.Fatalf("b's Assignment() = %v; want one partition", bp)
	}
	if !slices.Equal(got[bp[0].Partition], seq(3, 5)) {
		t.Errorf("b got %v of %v; want offsets 3..4, appended after the group started", got, bp[0])
	}
}
