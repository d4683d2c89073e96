package eventlog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/eventlog/eventlog/segment"
)

// pollReadBytes is about how much one partition read of a Poll fetches
// from storage at a time.
const pollReadBytes = 64 << 10

// Consumer is one member of a ConsumerGroup. Get one from
// ConsumerGroup.Join; call Close when done, so its partitions move to the
// other members at once rather than after MaxPollInterval.
//
// Like Kafka's consumer, a Consumer is meant for one goroutine at a time:
// Poll, Commit, Seek, Pause and the other methods must not be called
// concurrently with each other. Close is the exception: it may be called
// from any goroutine, and a Poll in progress then returns ErrClosed.
//
// Once evicted (see GroupOptions.MaxPollInterval) every method returns an
// error wrapping ErrEvicted; Close returns nil. After Close every method
// returns ErrClosed. The zero value is not usable.
type Consumer struct {
	g    *ConsumerGroup
	id   string
	done chan struct{} // closed when the member leaves the group (Close or eviction)

	// Guarded by g.mu.
	owned       map[TopicPartition]*claim
	want        []TopicPartition // target assignment, sorted
	inPoll      bool
	lastPoll    time.Time // Join, or the end of the last Poll
	revokeSince time.Time // when a partition it owns was first targeted elsewhere; zero if none
	closing     bool      // Close has begun: Poll fails, Commit still works
	closed      bool
	evicted     error                    // set by eviction; wraps ErrEvicted
	uncommitted map[TopicPartition]int64 // AutoCommit: offset+1 of what Polls returned, not yet committed

	rr int // rotates the partition a Poll reads first; used by the Poll goroutine only
}

// claim is a member's hold on one partition. A new claim is made each
// time the member takes the partition, so a stale one is detectable.
type claim struct {
	p      *Partition
	pos    int64 // next offset to return; guarded by g.mu
	paused bool  // guarded by g.mu

	// ahead holds records read from storage beyond what a Poll could
	// return, starting at pos: the next Poll takes them without reading
	// storage again. At most one read (pollReadBytes) per partition, kept
	// as the store returned it: converted once, into what Poll returns.
	// Used by the Poll goroutine only (Seek, on the same goroutine,
	// clears it).
	ahead []segment.Record
}

// ID returns the member's id, unique within its group, such as
// "billing-000003". Assignors order members by it.
func (c *Consumer) ID() string { return c.id }

// usableLocked returns why c can no longer poll, if it cannot.
func (c *Consumer) usableLocked() error {
	switch {
	case c.evicted != nil:
		return c.evicted
	case c.closed, c.closing:
		return ErrClosed
	case c.g.l.isClosed():
		return ErrClosed
	}
	return nil
}

// Poll returns up to MaxPollRecords records of the member's partitions,
// blocking until at least one is there or ctx ends (returning ctx.Err()).
// It is woken by appends and by rebalances; it never sleeps to poll.
//
// Each Poll first commits the previous Poll's records (with AutoCommit),
// then gives up the partitions a rebalance moved away (calling OnRevoked
// first), then takes newly assigned ones (calling OnAssigned after), and
// then reads. Reads are fair across partitions: each Poll starts at a
// different partition and takes at most MaxPollRecords/n from each before
// filling up from any. Records of one partition come in offset order, and
// never from a partition the member does not own at the moment Poll
// returns. A partition the member takes starts at the group's committed
// offset, or per GroupOptions.StartAt if it has none or retention deleted
// it; if retention overtakes a member's position, it too restarts per
// StartAt (with a warning).
//
// The records are the caller's to keep. The error wraps ErrClosed (the
// member or the Log was closed), ErrEvicted, ErrUnknownTopic (a topic of
// the group was deleted), or reports a failed auto-commit or corrupt data.
// A second Poll while one is in progress on the same Consumer fails at
// once with an error wrapping ErrInvalidConfig.
func (c *Consumer) Poll(ctx context.Context) ([]Record, error) {
	g := c.g
	g.mu.Lock()
	if err := c.usableLocked(); err != nil {
		g.mu.Unlock()
		return nil, err
	}
	if c.inPoll {
		g.mu.Unlock()
		return nil, fmt.Errorf("member %s: Poll called concurrently: %w", c.id, ErrInvalidConfig)
	}
	c.inPoll = true // no MaxPollInterval deadline while inside Poll
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		c.inPoll = false
		c.lastPoll = time.Now()
		g.pokeIfEarlierLocked(c.lastPoll.Add(g.opts.MaxPollInterval))
		g.mu.Unlock()
	}()

	topics := make([]*Topic, 0, len(g.opts.Topics))
	for _, tn := range g.opts.Topics {
		topics = append(topics, g.partOf[TopicPartition{Topic: tn}].t)
	}
	var cases []reflect.SelectCase // for groups of several topics
	for {
		// Take every wake-up channel before checking, so no append or
		// rebalance between the check and the wait goes unnoticed.
		grew := make([]<-chan struct{}, len(topics))
		for i, t := range topics {
			grew[i] = t.grew.wait()
		}
		g.mu.Lock()
		changed := g.changed
		err := c.usableLocked()
		g.mu.Unlock()
		if err != nil {
			return nil, err
		}

		if err := c.autoCommit(ctx); err != nil {
			return nil, err
		}
		if err := c.revokeAndAssign(ctx); err != nil {
			return nil, err
		}
		recs, reset, err := c.fetch()
		if err != nil || len(recs) > 0 {
			return recs, err
		}
		if reset {
			// Retention overtook a position, which now points at records
			// that are there: read them now, as no append may come to wake us.
			continue
		}
		for _, t := range topics {
			// A deleted topic never grows again: say so rather than wait.
			if err := context.Cause(t.ctx); err != nil {
				return nil, err
			}
		}

		if len(grew) == 1 {
			select {
			case <-grew[0]:
			case <-changed:
			case <-c.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-g.ctx.Done():
			case <-topics[0].ctx.Done(): // deleted
			}
			continue
		}
		cases = cases[:0]
		for _, ch := range []<-chan struct{}{changed, c.done, ctx.Done(), g.ctx.Done()} {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
		}
		for _, ch := range grew {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
		}
		for _, t := range topics {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(t.ctx.Done())})
		}
		if i, _, _ := reflect.Select(cases); i == 2 {
			return nil, ctx.Err()
		}
	}
}

// autoCommit commits what earlier Polls returned, with AutoCommit.
func (c *Consumer) autoCommit(ctx context.Context) error {
	g := c.g
	if !g.opts.AutoCommit {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if c.evicted != nil || c.closed {
		return c.usableLocked()
	}
	for tp := range c.uncommitted {
		if c.owned[tp] == nil {
			delete(c.uncommitted, tp) // no longer ours to commit
		}
	}
	if len(c.uncommitted) == 0 {
		return nil
	}
	if err := g.offsets.commit(ctx, g.name, c.uncommitted); err != nil {
		return fmt.Errorf("group %q: auto-commit: %w", g.name, err)
	}
	clear(c.uncommitted)
	return nil
}

// revokeAndAssign gives up the partitions targeted elsewhere (OnRevoked
// first) and takes the free ones targeted here (OnAssigned after).
func (c *Consumer) revokeAndAssign(ctx context.Context) error {
	g := c.g
	g.mu.Lock()
	var revoked []TopicPartition
	for tp := range c.owned {
		if g.target[tp] != c {
			revoked = append(revoked, tp)
		}
	}
	g.mu.Unlock()
	if len(revoked) > 0 {
		slices.SortFunc(revoked, compareTopicPartitions)
		if f := g.opts.OnRevoked; f != nil {
			f(ctx, c, revoked) // still the owner: it may commit
		}
		g.mu.Lock()
		if err := c.usableLocked(); err != nil {
			g.mu.Unlock()
			return err
		}
		for _, tp := range revoked {
			if c.owned[tp] != nil && g.target[tp] != c { // a later rebalance may have given it back
				delete(c.owned, tp)
				delete(c.uncommitted, tp)
				delete(g.owner, tp)
			}
		}
		g.updateRevokesLocked(time.Now())
		g.broadcastLocked() // the new owners may take them now
		g.mu.Unlock()
		g.poke()
	}

	g.mu.Lock()
	if err := c.usableLocked(); err != nil {
		// Close (or eviction) began: take nothing, or Close's OnRevoked,
		// which listed the partitions owned when it began, would miss these.
		g.mu.Unlock()
		return err
	}
	var assigned []TopicPartition
	for _, tp := range c.want {
		if _, taken := g.owner[tp]; !taken {
			g.owner[tp] = c
			c.owned[tp] = &claim{p: g.partOf[tp], pos: g.startOffsetLocked(tp)}
			assigned = append(assigned, tp)
		}
	}
	g.mu.Unlock()
	if len(assigned) > 0 {
		if f := g.opts.OnAssigned; f != nil {
			f(ctx, c, assigned)
		}
	}
	return nil
}

// fetch reads up to MaxPollRecords records from the member's unpaused
// partitions, fairly, and advances its positions. reset reports that a
// position retention had overtaken was moved (per StartAt): there may be
// records to read at once.
func (c *Consumer) fetch() (recs []Record, reset bool, err error) {
	g := c.g
	type part struct {
		tp   TopicPartition
		cl   *claim
		from int64            // position when read began
		pos  int64            // next offset to read
		recs []segment.Record // records of p read for this Poll
	}
	g.mu.Lock()
	var parts []part
	for tp, cl := range c.owned {
		if !cl.paused {
			parts = append(parts, part{tp: tp, cl: cl, from: cl.pos, pos: cl.pos})
		}
	}
	g.mu.Unlock()
	if len(parts) == 0 {
		return nil, false, nil
	}
	slices.SortFunc(parts, func(a, b part) int { return compareTopicPartitions(a.tp, b.tp) })
	start := c.rr % len(parts)
	c.rr++

	limit := g.opts.MaxPollRecords
	per := max(1, (limit+len(parts)-1)/len(parts))
	total := 0
	var resets []int
	for pass := range 2 { // first at most per partition, then fill up from any
		for i := range parts {
			x := &parts[(start+i)%len(parts)]
			room := limit - total
			if room == 0 {
				break
			}
			if pass == 0 {
				room = min(room, per)
			}
			end := x.cl.p.NextOffset()
			if x.pos >= end {
				continue
			}
			n := len(x.recs)
			var err error
			x.recs, err = x.cl.p.fetch(x.pos, end, room, x.recs, &x.cl.ahead)
			total += len(x.recs) - n
			if len(x.recs) > 0 {
				x.pos = x.recs[len(x.recs)-1].Offset + 1
			}
			switch {
			case errors.Is(err, ErrOffsetOutOfRange) && len(x.recs) == 0:
				resets = append(resets, (start+i)%len(parts)) // retention overtook the position
			case err != nil:
				return nil, false, err
			}
		}
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	if err := c.usableLocked(); err != nil {
		return nil, false, err
	}
	for _, i := range resets {
		x := &parts[i]
		if c.owned[x.tp] == x.cl && x.cl.pos == x.from {
			pos := x.cl.p.FirstOffset()
			if g.opts.StartAt == Latest {
				pos = x.cl.p.NextOffset()
			}
			g.l.opts.Logger.Warn("eventlog: consumer position deleted by retention; restarting per StartAt",
				"group", g.name, "topic", x.tp.Topic, "partition", x.tp.Partition, "position", x.from, "new_position", pos)
			x.cl.pos = pos
			reset = true
		}
	}
	out := make([]Record, 0, total)
	for i := range parts {
		x := &parts[(start+i)%len(parts)]
		if len(x.recs) == 0 || c.owned[x.tp] != x.cl || x.cl.pos != x.from {
			continue // no longer ours (or sought meanwhile): drop what was read
		}
		x.cl.pos = x.pos
		for i := range x.recs {
			out = append(out, x.cl.p.record(&x.recs[i]))
		}
		if g.opts.AutoCommit {
			if c.uncommitted == nil {
				c.uncommitted = make(map[TopicPartition]int64)
			}
			c.uncommitted[x.tp] = x.pos
		}
	}
	return out, reset, nil
}

// fetch appends to dst up to max records of p from offset from, stopping
// before end. It takes them from *ahead first if that starts at from, and
// leaves in *ahead the records it read from storage but did not return.
// It does not look at ctx: what is there is returned even to a Poll whose
// ctx has ended (like Kafka's poll(0)).
func (p *Partition) fetch(from, end int64, max int, dst []segment.Record, ahead *[]segment.Record) ([]segment.Record, error) {
	if err := p.checkOpen(context.Background()); err != nil {
		return dst, err
	}
	if len(*ahead) > 0 && (*ahead)[0].Offset != from {
		*ahead = nil
	}
	for from < end && max > 0 {
		if len(*ahead) == 0 {
			batch, err := p.store.ReadFrom(from, pollReadBytes)
			if err != nil {
				return dst, p.storeError(err)
			}
			if len(batch) == 0 || batch[0].Offset != from {
				return dst, &CorruptError{Topic: p.topic, Partition: p.id, Offset: from,
					Err: fmt.Errorf("storage returned no record for offset %d", from)}
			}
			k := 0
			for k < len(batch) && batch[k].Offset < end {
				k++ // the rest is not yet durable: read again once it is
			}
			p.stats.noteReadCount(k)
			*ahead = batch[:k:k]
		}
		n := 0
		for n < len(*ahead) && n < max && (*ahead)[n].Offset < end {
			n++
		}
		if dst == nil {
			dst = (*ahead)[:n:n] // no copy: *ahead moves past them
		} else {
			dst = append(dst, (*ahead)[:n]...)
		}
		from += int64(n)
		max -= n
		*ahead = (*ahead)[n:]
		if len(*ahead) == 0 {
			*ahead = nil // let the read's records go
		}
		if n == 0 {
			break
		}
	}
	return dst, nil
}

// Commit commits, for each partition of recs, the offset after the
// highest of its records in recs (Kafka's convention: the committed
// offset is the next one to read). Records may be given in any order and
// from several partitions; with none, Commit does nothing.
//
// All partitions must be owned by this member at the moment of the call:
// otherwise Commit changes nothing and returns an error wrapping
// ErrRebalanced (and ErrEvicted if the member was evicted). A member can
// therefore never move the group's offset over another member's work.
// Commits are allowed inside OnRevoked, while the partitions are still
// owned.
//
// Commit returns once the offsets are durable under Options.Sync (with
// the default SyncAlways, fsynced), all or none. If ctx ends before they
// are handed to the writer nothing is committed and ctx.Err() returned;
// after that, Commit waits for the write to finish. The error may also
// wrap ErrClosed, ErrOffsetOutOfRange, or a storage error.
func (c *Consumer) Commit(ctx context.Context, recs ...Record) error {
	offs := make(map[TopicPartition]int64)
	for _, r := range recs {
		tp := TopicPartition{Topic: r.Topic, Partition: r.Partition}
		if old, ok := offs[tp]; !ok || r.Offset+1 > old {
			offs[tp] = r.Offset + 1
		}
	}
	return c.CommitOffsets(ctx, offs)
}

// CommitOffsets commits the given offsets: for each partition, the next
// offset the group should read there. Each must lie in [0, NextOffset] of
// its partition (ErrOffsetOutOfRange); moving an offset backwards is
// allowed. An offset below FirstOffset is accepted, so a consumer whose
// records retention removed while it worked on them can still commit them;
// the partition's next owner then starts at FirstOffset. Ownership,
// durability and errors are as for Commit.
func (c *Consumer) CommitOffsets(ctx context.Context, offsets map[TopicPartition]int64) error {
	g := c.g
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case c.evicted != nil:
		return fmt.Errorf("commit: %w (%w)", c.evicted, ErrRebalanced)
	case c.closed:
		return ErrClosed
	}
	if len(offsets) == 0 {
		return nil
	}
	for _, tp := range slices.SortedFunc(maps.Keys(offsets), compareTopicPartitions) {
		cl := c.owned[tp]
		if cl == nil {
			return fmt.Errorf("commit %s/%d: member %s does not own it: %w", tp.Topic, tp.Partition, c.id, ErrRebalanced)
		}
		off := offsets[tp]
		if first, next := cl.p.FirstOffset(), cl.p.NextOffset(); off < 0 || off > next {
			return fmt.Errorf("commit %s/%d offset %d (have %d..%d): %w", tp.Topic, tp.Partition, off, first, next, ErrOffsetOutOfRange)
		}
	}
	if err := g.offsets.commit(ctx, g.name, offsets); err != nil {
		return fmt.Errorf("group %q: commit: %w", g.name, err)
	}
	for tp, off := range offsets {
		if u, ok := c.uncommitted[tp]; ok && u <= off {
			delete(c.uncommitted, tp)
		}
	}
	return nil
}

// ownedLocked returns c's claim on a partition, or an error.
func (c *Consumer) ownedLocked(op string, tp TopicPartition) (*claim, error) {
	if err := c.usableLocked(); err != nil {
		return nil, err
	}
	cl := c.owned[tp]
	if cl == nil {
		return nil, fmt.Errorf("%s %s/%d: member %s does not own it: %w", op, tp.Topic, tp.Partition, c.id, ErrRebalanced)
	}
	return cl, nil
}

// Seek makes the next Poll read partition (topic, partition) from offset,
// which must lie in [FirstOffset, NextOffset] (ErrOffsetOutOfRange). It
// changes only this member's position, not the committed offset; with
// AutoCommit, the next auto-commit of the partition is what Polls return
// after the Seek. The partition must be owned by this member
// (ErrRebalanced); a Seek does not survive the partition moving to
// another member, which starts at the committed offset. After Close or
// eviction the error wraps ErrClosed or ErrEvicted.
func (c *Consumer) Seek(topic string, partition int, offset int64) error {
	g := c.g
	g.mu.Lock()
	defer g.mu.Unlock()
	tp := TopicPartition{Topic: topic, Partition: partition}
	cl, err := c.ownedLocked("seek", tp)
	if err != nil {
		return err
	}
	if first, next := cl.p.FirstOffset(), cl.p.NextOffset(); offset < first || offset > next {
		return fmt.Errorf("seek %s/%d to %d (have %d..%d): %w", topic, partition, offset, first, next, ErrOffsetOutOfRange)
	}
	cl.pos = offset
	cl.ahead = nil
	delete(c.uncommitted, tp)
	return nil
}

// SeekToTime makes the next Poll read the partition from the first record
// whose Time is at or after t (NextOffset if none), as
// Partition.OffsetForTime finds it. Errors are as for Seek.
func (c *Consumer) SeekToTime(topic string, partition int, t time.Time) error {
	c.g.mu.Lock()
	cl, err := c.ownedLocked("seek", TopicPartition{Topic: topic, Partition: partition})
	c.g.mu.Unlock()
	if err != nil {
		return err
	}
	off, err := cl.p.OffsetForTime(t)
	if err != nil {
		return err
	}
	return c.Seek(topic, partition, off)
}

// Assignment returns the partitions this member owns now, sorted. It
// includes partitions a rebalance has moved elsewhere that the member has
// not yet given up (it does at its next Poll), and not those assigned to
// it that it has not yet taken (it does at its next Poll). It returns nil
// after Close or eviction.
func (c *Consumer) Assignment() []TopicPartition {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	if c.usableLocked() != nil {
		return nil
	}
	return slices.SortedFunc(maps.Keys(c.owned), compareTopicPartitions)
}

// Position returns the next offset Poll will return for an owned
// partition. Errors are as for Seek.
func (c *Consumer) Position(topic string, partition int) (int64, error) {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	cl, err := c.ownedLocked("position", TopicPartition{Topic: topic, Partition: partition})
	if err != nil {
		return 0, err
	}
	return cl.pos, nil
}

// Pause stops Poll from returning records of the given partitions until
// Resume; the member keeps owning them (Kafka's pause). Pausing is part of
// the member's hold on a partition: a partition that moves away and back
// comes back unpaused. Every partition must be owned (ErrRebalanced); on
// error nothing is paused.
func (c *Consumer) Pause(tps ...TopicPartition) error { return c.setPaused(true, tps) }

// Resume lets Poll return records of paused partitions again. Errors are
// as for Pause.
func (c *Consumer) Resume(tps ...TopicPartition) error { return c.setPaused(false, tps) }

func (c *Consumer) setPaused(paused bool, tps []TopicPartition) error {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	op := "resume"
	if paused {
		op = "pause"
	}
	cls := make([]*claim, 0, len(tps))
	for _, tp := range tps {
		cl, err := c.ownedLocked(op, tp)
		if err != nil {
			return err
		}
		cls = append(cls, cl)
	}
	for _, cl := range cls {
		cl.paused = paused
	}
	if !paused {
		c.g.broadcastLocked() // a Poll in progress may now have records
	}
	return nil
}

// Close removes the member from its group. With AutoCommit it first
// commits what Polls returned; then it calls OnRevoked for every partition
// it owns (on the calling goroutine, so commits there still work), and
// then leaves: its partitions go to the other members at once. A Poll in
// progress returns ErrClosed.
//
// Close may be called from any goroutine. It returns the auto-commit's
// error, if any (the records will then be delivered again); nil for an
// evicted member; and ErrClosed when called again.
func (c *Consumer) Close() error {
	g := c.g
	g.mu.Lock()
	if c.closing || c.closed {
		g.mu.Unlock()
		return ErrClosed
	}
	if c.evicted != nil {
		c.closed = true
		g.mu.Unlock()
		return nil
	}
	c.closing = true
	owned := slices.SortedFunc(maps.Keys(c.owned), compareTopicPartitions)
	g.broadcastLocked() // wake a Poll in progress
	g.mu.Unlock()

	ctx := context.Background()
	err := c.autoCommit(ctx)
	if f := g.opts.OnRevoked; f != nil && len(owned) > 0 {
		f(ctx, c, owned)
	}

	g.mu.Lock()
	c.closed = true
	g.leaveLocked(c)
	g.mu.Unlock()
	g.poke()
	if errors.Is(err, ErrClosed) {
		err = nil // the Log closed first: nothing more to lose
	}
	return err
}
