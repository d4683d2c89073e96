package eventlog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// StartAt says where a group starts reading a partition for which it has
// no committed offset, or whose committed offset retention has deleted
// (Kafka's auto.offset.reset).
type StartAt int

const (
	// Earliest starts at the partition's FirstOffset: the group reads
	// everything the partition still holds. It is the zero value. (Kafka's
	// own default is "latest"; for an embedded log that is usually the
	// surprise, so eventlog's is the safe one.)
	Earliest StartAt = iota
	// Latest starts at the partition's NextOffset as of the moment a
	// member of the group first takes the partition: only records appended
	// after that are read. The group remembers that start (in memory, for
	// the life of the Log), so a member that takes the partition over
	// before anything was committed starts there too rather than skipping
	// to the new end.
	Latest
)

// String returns "Earliest" or "Latest".
func (s StartAt) String() string {
	switch s {
	case Earliest:
		return "Earliest"
	case Latest:
		return "Latest"
	}
	return "StartAt(" + strconv.Itoa(int(s)) + ")"
}

// GroupOptions configures a consumer group. Topics is required; every
// other field has a documented default for its zero value.
type GroupOptions struct {
	// Topics are the topics the group consumes. Required; each must exist
	// and must not be an internal ("__") topic.
	Topics []string

	// StartAt is where a partition without a committed offset is read
	// from. Zero is Earliest.
	StartAt StartAt

	// Assignor decides which member owns which partition at each
	// rebalance. Nil means StickyAssignor. A custom Assignor whose result
	// is invalid (see Assignor) is not applied: the group logs a warning
	// and uses StickyAssignor's result for that rebalance.
	Assignor Assignor

	// MaxPollRecords bounds the records one Poll returns. Zero means 500,
	// Kafka's default.
	MaxPollRecords int

	// AutoCommit commits, at the start of each Poll, the records the
	// previous Poll returned; and, at Close and before partitions are
	// revoked, the records polled since. A process that crashes between
	// Polls therefore gets the last Poll's records again (at-least-once).
	// Zero (false) means the application commits with Commit.
	AutoCommit bool

	// MaxPollInterval is how long a member may go without calling Poll
	// before the group evicts it and gives its partitions to the others.
	// Time spent blocked inside Poll counts as polling. Zero means 5
	// minutes, Kafka's default.
	MaxPollInterval time.Duration

	// RebalanceTimeout is how long a member may keep a partition after a
	// rebalance moved it elsewhere (it gives it up at its next Poll or
	// Close, after OnRevoked returns) before the group evicts it. Zero
	// means MaxPollInterval.
	RebalanceTimeout time.Duration

	// OnAssigned, if set, is called with the partitions a member has just
	// taken, sorted, from inside its Poll (on the goroutine calling Poll,
	// with Poll's ctx) before records of them are returned.
	OnAssigned func(ctx context.Context, c *Consumer, assigned []TopicPartition)

	// OnRevoked, if set, is called with the partitions a member is about
	// to give up, sorted, while it still owns them, so it may Commit them:
	// from inside Poll (with Poll's ctx) when a rebalance moves them, and
	// from Close (on the goroutine calling Close, with a background
	// context) for everything the member owns. It is not called for a
	// member that was evicted: its partitions are already gone.
	OnRevoked func(ctx context.Context, c *Consumer, revoked []TopicPartition)
}

func (o *GroupOptions) withDefaults() GroupOptions {
	var c GroupOptions
	if o != nil {
		c = *o
	}
	c.Topics = slices.Clone(c.Topics)
	if c.Assignor == nil {
		c.Assignor = StickyAssignor()
	}
	if c.MaxPollRecords == 0 {
		c.MaxPollRecords = 500
	}
	if c.MaxPollInterval == 0 {
		c.MaxPollInterval = 5 * time.Minute
	}
	if c.RebalanceTimeout == 0 {
		c.RebalanceTimeout = c.MaxPollInterval
	}
	return c
}

func (o GroupOptions) validate() error {
	switch {
	case len(o.Topics) == 0:
		return fmt.Errorf("no Topics: %w", ErrInvalidConfig)
	case o.StartAt != Earliest && o.StartAt != Latest:
		return fmt.Errorf("unknown %v: %w", o.StartAt, ErrInvalidConfig)
	case o.MaxPollRecords < 0:
		return fmt.Errorf("negative MaxPollRecords %d: %w", o.MaxPollRecords, ErrInvalidConfig)
	case o.MaxPollInterval < 0, o.RebalanceTimeout < 0:
		return fmt.Errorf("negative MaxPollInterval or RebalanceTimeout: %w", ErrInvalidConfig)
	}
	sorted := slices.Sorted(slices.Values(o.Topics))
	if len(slices.Compact(sorted)) != len(o.Topics) {
		return fmt.Errorf("topic listed twice in %q: %w", o.Topics, ErrInvalidConfig)
	}
	return nil
}

// ConsumerGroup is a named set of consumers sharing the partitions of its
// topics, as in Kafka: every group sees every record of its topics
// (fan-out across groups), and within a group each partition is owned by
// exactly one member at a time (work sharing). Get one from
// Log.ConsumerGroup and add members with Join.
//
// Rebalancing is cooperative (Kafka's KIP-429): when a member joins or
// leaves, only the partitions whose owner changes move, and each is first
// given up by its old owner (at that member's next Poll or Close) and only
// then taken by its new one (at its next Poll). No partition is ever
// delivered by two members at once, and partitions that need not move keep
// flowing.
//
// The group's committed offsets are durable under Options.Sync and survive
// Close and a crash; a partition's new owner resumes at the committed
// offset, so records polled but not committed are delivered again
// (at-least-once).
//
// Unlike Kafka, the group lives inside the Log: its members are Consumers
// of this process, there is no heartbeat (liveness is only
// MaxPollInterval), and a group's membership does not survive a restart;
// only its committed offsets do.
//
// A ConsumerGroup is safe for concurrent use; its zero value is not
// usable. Its background goroutine (evicting members that stall) is
// stopped by Log.Close.
type ConsumerGroup struct {
	l       *Log
	name    string
	opts    GroupOptions
	parts   []TopicPartition // every partition of the group's topics, sorted
	partOf  map[TopicPartition]*Partition
	offsets *offsetStore

	ctx    context.Context // ends when the Log closes or the group is deleted
	cancel context.CancelFunc
	wake   chan struct{} // buffered: deadlines changed; the monitor recomputes

	mu      sync.Mutex // guards everything below, and the fields of Consumer marked so
	deleted bool
	seq     int
	members map[string]*Consumer
	target  map[TopicPartition]*Consumer // where the assignor wants each partition
	owner   map[TopicPartition]*Consumer // who owns it now; absent: nobody
	changed chan struct{}                // closed and replaced at every change members wait for
	// latestStart is, under StartAt Latest, where the group began reading
	// each partition it has committed nothing for: the end as of the first
	// take. Later owners start there too, so records appended after the
	// group began are not skipped by a rebalance before the first commit.
	latestStart map[TopicPartition]int64
	armed       time.Time // the deadline the monitor sleeps until; zero: none
}

// ConsumerGroup returns the consumer group called name, creating it on
// first use. Names follow the rules of topic names (ErrInvalidName).
// opts.Topics must name existing topics (ErrUnknownTopic). A nil opts is
// an error: Topics is required.
//
// Asking again for a group that exists in this Log returns the same
// *ConsumerGroup if opts.Topics lists the same topics (in any order); its
// other options stay those of the first call. Other topics are an error
// wrapping ErrInvalidConfig.
//
// The first group of a Log creates, or replays, the internal
// __consumer_offsets topic that holds committed offsets. The error wraps
// ErrInvalidName, ErrInvalidConfig, ErrUnknownTopic or ErrClosed, or
// reports damage in __consumer_offsets.
func (l *Log) ConsumerGroup(name string, opts *GroupOptions) (*ConsumerGroup, error) {
	if err := validateName(name); err != nil {
		return nil, fmt.Errorf("group: %w", err)
	}
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("group %q: %w", name, err)
	}
	var parts []TopicPartition
	partOf := make(map[TopicPartition]*Partition)
	for _, tn := range o.Topics {
		if isReserved(tn) {
			return nil, fmt.Errorf("group %q: internal topic %q: %w", name, tn, ErrInvalidName)
		}
		t, err := l.Topic(tn)
		if err != nil {
			return nil, fmt.Errorf("group %q: %w", name, err)
		}
		for _, p := range t.parts {
			tp := TopicPartition{Topic: tn, Partition: p.id}
			parts = append(parts, tp)
			partOf[tp] = p
		}
	}
	slices.SortFunc(parts, compareTopicPartitions)

	l.groups.mu.Lock()
	defer l.groups.mu.Unlock()
	if g, ok := l.groups.groups[name]; ok {
		if !slices.Equal(slices.Sorted(slices.Values(g.opts.Topics)), slices.Sorted(slices.Values(o.Topics))) {
			return nil, fmt.Errorf("group %q exists with topics %q, asked for %q: %w", name, g.opts.Topics, o.Topics, ErrInvalidConfig)
		}
		return g, nil
	}
	offsets, err := l.offsetsLocked(true)
	if err != nil {
		return nil, fmt.Errorf("group %q: %w", name, err)
	}
	g := &ConsumerGroup{
		l: l, name: name, opts: o, parts: parts, partOf: partOf, offsets: offsets,
		wake:        make(chan struct{}, 1),
		members:     make(map[string]*Consumer),
		target:      make(map[TopicPartition]*Consumer),
		owner:       make(map[TopicPartition]*Consumer),
		latestStart: make(map[TopicPartition]int64),
		changed:     make(chan struct{}),
	}
	g.ctx, g.cancel = context.WithCancel(l.ctx)

	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		g.cancel()
		return nil, ErrClosed
	}
	l.bg.Go(func() error { return g.monitor(g.ctx) }) // under l.mu: Close waits for it
	l.mu.Unlock()

	if l.groups.groups == nil {
		l.groups.groups = make(map[string]*ConsumerGroup)
	}
	l.groups.groups[name] = g
	return g, nil
}

// Groups returns the names of the Log's consumer groups that have members
// or committed offsets, sorted. After Close it returns nil.
func (l *Log) Groups() []string {
	if l.isClosed() {
		return nil
	}
	l.groups.mu.Lock()
	defer l.groups.mu.Unlock()
	names := make(map[string]bool)
	for name, g := range l.groups.groups {
		g.mu.Lock()
		if len(g.members) > 0 {
			names[name] = true
		}
		g.mu.Unlock()
	}
	if s, err := l.offsetsLocked(false); err == nil && s != nil {
		for _, name := range s.groups() {
			names[name] = true
		}
	}
	return slices.Sorted(maps.Keys(names))
}

// DeleteGroup deletes a consumer group that has no members: its committed
// offsets are removed (durably, under Options.Sync, before it returns) and
// a later ConsumerGroup call with its name starts afresh. Joining through
// a *ConsumerGroup obtained before fails with ErrUnknownGroup.
//
// The error wraps ErrGroupNotEmpty if the group has members (nothing is
// changed), ErrUnknownGroup if there is no such group, or ErrClosed.
func (l *Log) DeleteGroup(name string) error {
	if l.isClosed() {
		return ErrClosed
	}
	l.groups.mu.Lock()
	defer l.groups.mu.Unlock()
	g := l.groups.groups[name]
	if g != nil {
		g.mu.Lock()
		if n := len(g.members); n > 0 {
			g.mu.Unlock()
			return fmt.Errorf("delete group %q with %d members: %w", name, n, ErrGroupNotEmpty)
		}
		g.deleted = true
		g.mu.Unlock()
		g.cancel()
		delete(l.groups.groups, name)
	}
	s, err := l.offsetsLocked(false)
	if err != nil {
		return fmt.Errorf("delete group %q: %w", name, err)
	}
	if s == nil || !s.has(name) {
		if g == nil {
			return fmt.Errorf("delete group %q: %w", name, ErrUnknownGroup)
		}
		return nil
	}
	if err := s.deleteGroup(l.ctx, name); err != nil {
		return fmt.Errorf("delete group %q: %w", name, err)
	}
	return nil
}

// Name returns the group's name.
func (g *ConsumerGroup) Name() string { return g.name }

// Join adds a member to the group and returns it. It never waits for
// other members: it registers the member, starts a rebalance, and
// returns. The member takes its partitions at its first Poll, as soon as
// their previous owners (if any) have given them up.
//
// The error is ctx.Err(), or wraps ErrClosed (the Log is closed) or
// ErrUnknownGroup (the group was deleted).
func (g *ConsumerGroup) Join(ctx context.Context) (*Consumer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if g.l.isClosed() {
		return nil, ErrClosed
	}
	g.mu.Lock()
	if g.deleted {
		g.mu.Unlock()
		return nil, fmt.Errorf("join group %q: deleted: %w", g.name, ErrUnknownGroup)
	}
	g.seq++
	c := &Consumer{
		g:        g,
		id:       fmt.Sprintf("%s-%06d", g.name, g.seq),
		done:     make(chan struct{}),
		owned:    make(map[TopicPartition]*claim),
		lastPoll: time.Now(),
	}
	g.members[c.id] = c
	g.rebalanceLocked()
	g.mu.Unlock()
	g.poke()
	return c, nil
}

// PartitionLag is one partition's progress in a consumer group.
type PartitionLag struct {
	Topic     string
	Partition int
	// Committed is the group's committed offset: the next offset it will
	// read. -1 if the group has committed nothing for the partition.
	Committed int64
	// End is the partition's NextOffset (its high watermark).
	End int64
	// Lag is End minus Committed: the records the group has yet to
	// process. Without a committed offset it is what the group would read
	// under GroupOptions.StartAt: End minus FirstOffset for Earliest; for
	// Latest, End minus where the group began reading the partition, or 0
	// if no member has taken it yet.
	Lag int64
}

// Lag returns the group's lag for every partition of its topics, sorted
// by topic and partition. It reads only memory and is safe to call at any
// time; the error wraps ErrClosed after the Log closed.
func (g *ConsumerGroup) Lag() ([]PartitionLag, error) {
	if g.l.isClosed() {
		return nil, ErrClosed
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]PartitionLag, 0, len(g.parts))
	for _, tp := range g.parts {
		p := g.partOf[tp]
		pl := PartitionLag{Topic: tp.Topic, Partition: tp.Partition, Committed: -1, End: p.NextOffset()}
		if off, ok := g.offsets.get(g.name, tp); ok {
			pl.Committed = off
			pl.Lag = max(pl.End-off, 0)
		} else if g.opts.StartAt == Earliest {
			pl.Lag = pl.End - p.FirstOffset()
		} else if off, ok := g.latestStart[tp]; ok {
			pl.Lag = max(pl.End-off, 0)
		}
		out = append(out, pl)
	}
	return out, nil
}

// Committed returns the group's committed offset for a partition: the
// next offset the group will read there. ok is false if the group has
// committed nothing for it. It reads only memory, is safe for concurrent
// use, and after Log.Close returns the last offsets known.
func (g *ConsumerGroup) Committed(topic string, partition int) (offset int64, ok bool) {
	return g.offsets.get(g.name, TopicPartition{Topic: topic, Partition: partition})
}

// Run runs members consumers of the group until ctx ends or handler
// fails. Each member polls, calls handler for every record in order (one
// at a time per member; members run in parallel), and commits the records
// handler accepted after each batch. A member evicted for being too slow
// (MaxPollInterval) joins again; its uncommitted records are delivered
// again.
//
// Run returns nil once ctx ends, after every member has committed what its
// handler accepted and left the group. If handler returns an error, Run
// commits the records handled before it, stops every member and returns
// that error; the failed record and those after it will be delivered
// again. The ctx given to handler ends when Run is stopping.
//
// Run may be called concurrently (its members simply join the group). A
// members below 1 is an error wrapping ErrInvalidConfig; if the Log
// closes, or the group is deleted, Run returns an error wrapping ErrClosed
// or ErrUnknownGroup.
func (g *ConsumerGroup) Run(ctx context.Context, members int, handler func(context.Context, Record) error) error {
	if members < 1 {
		return fmt.Errorf("run group %q with %d members: %w", g.name, members, ErrInvalidConfig)
	}
	eg, ectx := errgroup.WithContext(ctx)
	for range members {
		eg.Go(func() error { return g.runMember(ectx, handler) })
	}
	err := eg.Wait()
	if ctx.Err() != nil && (err == nil || errors.Is(err, ctx.Err())) {
		return nil
	}
	return err
}

func (g *ConsumerGroup) runMember(ctx context.Context, handler func(context.Context, Record) error) (err error) {
	c, err := g.Join(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := c.Close(); cerr != nil && !errors.Is(cerr, ErrClosed) && err == nil && ctx.Err() == nil {
			err = cerr
		}
	}()
	commitCtx := context.WithoutCancel(ctx) // what the handler accepted is committed even while stopping
	for {
		recs, err := c.Poll(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrEvicted):
			c.Close()
			// Not "c, err = g.Join(ctx)": on error that would leave c nil
			// for the deferred Close.
			nc, err := g.Join(ctx)
			if err != nil {
				return err
			}
			c = nc
			continue
		case err != nil:
			return err
		}
		for i, rec := range recs {
			if herr := handler(ctx, rec); herr != nil {
				if cerr := c.Commit(commitCtx, recs[:i]...); cerr != nil && !errors.Is(cerr, ErrRebalanced) {
					return errors.Join(herr, cerr)
				}
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("group %q: handler for %s/%d offset %d: %w", g.name, rec.Topic, rec.Partition, rec.Offset, herr)
			}
		}
		if err := c.Commit(commitCtx, recs...); err != nil && !errors.Is(err, ErrRebalanced) {
			return err
		}
	}
}

// rebalanceLocked computes a new target assignment for the current members
// and marks the partitions that must move. It never moves a partition
// itself: owners give up revoked partitions in Poll or Close, and new
// owners take free ones in Poll.
func (g *ConsumerGroup) rebalanceLocked() {
	defer g.broadcastLocked()
	ids := slices.Sorted(maps.Keys(g.members))
	clear(g.target)
	// Members' current assignments are their targets so far: ownership
	// converges to them, and a member that joined but has not polled yet
	// keeps what it was promised.
	current := make(map[string][]TopicPartition, len(ids))
	for _, id := range ids {
		m := g.members[id]
		current[id] = m.want
		m.want = nil
	}
	if len(ids) == 0 {
		return
	}
	res := g.opts.Assignor.Assign(ids, g.parts, current)
	if err := checkAssignment(ids, g.parts, res); err != nil {
		g.l.opts.Logger.Warn("eventlog: assignor returned an invalid assignment; using StickyAssignor's", "group", g.name, "err", err)
		res = stickyAssignor{}.Assign(ids, g.parts, current)
	}
	for id, tps := range res {
		m := g.members[id]
		m.want = slices.Clone(tps)
		slices.SortFunc(m.want, compareTopicPartitions)
		for _, tp := range tps {
			g.target[tp] = m
		}
	}
	g.updateRevokesLocked(time.Now())
}

// updateRevokesLocked starts (or clears) each member's RebalanceTimeout
// clock: it runs while the member owns a partition targeted elsewhere.
func (g *ConsumerGroup) updateRevokesLocked(now time.Time) {
	for _, m := range g.members {
		pending := false
		for tp := range m.owned {
			if g.target[tp] != m {
				pending = true
				break
			}
		}
		switch {
		case !pending:
			m.revokeSince = time.Time{}
		case m.revokeSince.IsZero():
			m.revokeSince = now
		}
	}
}

// broadcastLocked wakes every member waiting in Poll, and the monitor.
func (g *ConsumerGroup) broadcastLocked() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// pokeIfEarlierLocked pokes the monitor if deadline comes before the one
// it sleeps until. Most Polls push a deadline later, and need not wake it:
// a monitor that wakes early just computes again.
func (g *ConsumerGroup) pokeIfEarlierLocked(deadline time.Time) {
	if g.armed.IsZero() || deadline.Before(g.armed) {
		g.poke()
	}
}

// poke tells the monitor that deadlines changed.
func (g *ConsumerGroup) poke() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// monitor evicts members that miss MaxPollInterval or RebalanceTimeout. It
// sleeps until the earliest deadline, or until poked, and returns when ctx
// ends (Log.Close or DeleteGroup).
func (g *ConsumerGroup) monitor(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		var due <-chan time.Time
		if next := g.evictExpired(time.Now()); !next.IsZero() {
			timer.Reset(time.Until(next))
			due = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-g.wake:
		case <-due:
		}
		timer.Stop()
	}
}

// evictExpired evicts the members whose deadline has passed and returns
// the earliest deadline still ahead (zero if none).
func (g *ConsumerGroup) evictExpired(now time.Time) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, id := range slices.Sorted(maps.Keys(g.members)) {
		m := g.members[id]
		if !m.inPoll && !now.Before(m.lastPoll.Add(g.opts.MaxPollInterval)) {
			g.evictLocked(m, fmt.Sprintf("no Poll within MaxPollInterval (%v)", g.opts.MaxPollInterval))
		} else if !m.revokeSince.IsZero() && !now.Before(m.revokeSince.Add(g.opts.RebalanceTimeout)) {
			g.evictLocked(m, fmt.Sprintf("revoked partitions not given up within RebalanceTimeout (%v)", g.opts.RebalanceTimeout))
		}
	}
	var next time.Time
	defer func() { g.armed = next }()
	earliest := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, m := range g.members {
		if !m.inPoll {
			earliest(m.lastPoll.Add(g.opts.MaxPollInterval))
		}
		if !m.revokeSince.IsZero() {
			earliest(m.revokeSince.Add(g.opts.RebalanceTimeout))
		}
	}
	return next
}

// evictLocked removes m from the group: its later calls fail with
// ErrEvicted and its partitions go to the others.
func (g *ConsumerGroup) evictLocked(m *Consumer, why string) {
	m.evicted = fmt.Errorf("member %s of group %q: %s: %w", m.id, g.name, why, ErrEvicted)
	g.l.opts.Logger.Warn("eventlog: consumer evicted from its group", "group", g.name, "member", m.id, "reason", why)
	g.leaveLocked(m)
}

// leaveLocked removes m, releases what it owns and rebalances. It does
// nothing if m has already left.
func (g *ConsumerGroup) leaveLocked(m *Consumer) {
	if g.members[m.id] != m {
		return
	}
	for tp := range m.owned {
		if g.owner[tp] == m {
			delete(g.owner, tp)
		}
	}
	clear(m.owned)
	m.want = nil
	delete(g.members, m.id)
	close(m.done)
	g.rebalanceLocked()
}

// startOffsetLocked is where a member that takes tp starts: the committed
// offset if there is one within the partition's bounds, else per StartAt.
func (g *ConsumerGroup) startOffsetLocked(tp TopicPartition) int64 {
	p := g.partOf[tp]
	first, next := p.FirstOffset(), p.NextOffset()
	if off, ok := g.offsets.get(g.name, tp); ok {
		if off >= first && off <= next {
			return off
		}
		g.l.opts.Logger.Warn("eventlog: committed offset out of range; starting per StartAt",
			"group", g.name, "topic", tp.Topic, "partition", tp.Partition, "committed", off, "first", first, "next", next, "start_at", g.opts.StartAt)
	}
	if g.opts.StartAt == Latest {
		// Without this, a partition that moves before its first commit
		// would start again at the end, skipping what was appended since the
		// group began: records no member ever saw.
		if off, ok := g.latestStart[tp]; ok && off >= first && off <= next {
			return off
		}
		g.latestStart[tp] = next
		return next
	}
	return first
}
