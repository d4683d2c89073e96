package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/eventlog/eventlog"
)

// runEventlogLatency produces p.Records records of p.Size bytes at p.Rate
// per second, one Produce at a time (each acknowledged under elPolicy(p):
// written, not fsynced, with the no-fsync variant), while the one member of
// a consumer group Polls in another goroutine without committing. A latency
// is from just before Produce to the return of the Poll that delivered the
// record. One warm-up record, produced and polled before the timed part,
// makes sure the member owns the partition.
func runEventlogLatency(ctx context.Context, p Params) (_ Result, err error) {
	l, pr, closeAll, err := elOpenProducer(p)
	if err != nil {
		return Result{}, err
	}
	defer func() { err = errors.Join(err, closeAll()) }()
	g, err := l.ConsumerGroup("latency", &eventlog.GroupOptions{Topics: []string{elTopic}})
	if err != nil {
		return Result{}, fmt.Errorf("eventlog consumer group: %w", err)
	}
	c, err := g.Join(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("join eventlog consumer group: %w", err)
	}
	defer c.Close()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	clock := newLatencyClock(p.Records)
	lats := make([]time.Duration, p.Records)
	ready := make(chan struct{})
	type recvd struct {
		n    int
		last time.Duration
		err  error
	}
	done := make(chan recvd, 1)
	go func() {
		var r recvd
		r.n, r.last, r.err = elReceive(runCtx, c, clock, lats, ready)
		if r.err != nil {
			cancel() // stop the producer too
		}
		done <- r
	}()

	var prodErr error
	if _, prodErr = pr.Produce(runCtx, eventlog.Record{Topic: elTopic, Value: seqValue(warmupSeq, p.Size)}); prodErr == nil {
		select {
		case <-ready:
		case <-runCtx.Done():
			prodErr = fmt.Errorf("eventlog consumer never saw the warm-up record: %w", runCtx.Err())
		}
	}
	first := clock.now()
	if prodErr == nil {
		prodErr = elSendPaced(runCtx, pr, p, clock)
	}
	if prodErr != nil {
		cancel()
	}
	r := <-done // the Poll goroutine has returned: c is no longer in use
	if err := errors.Join(prodErr, r.err); err != nil {
		return Result{Records: r.n}, err
	}
	return Result{Records: r.n, Elapsed: r.last - first, Latencies: lats}, nil
}

// elSendPaced sends p.Records records with Produce, one at a time, on the
// schedule p.Rate sets, marking each send's start on clock.
func elSendPaced(ctx context.Context, pr *eventlog.Producer, p Params, clock *latencyClock) error {
	sched := newSendSchedule(p.Rate)
	for i := range p.Records {
		if err := sched.wait(ctx, i); err != nil {
			return err
		}
		rec := eventlog.Record{Topic: elTopic, Value: seqValue(uint64(i), p.Size)}
		clock.sent(i)
		if _, err := pr.Produce(ctx, rec); err != nil {
			return fmt.Errorf("eventlog produce %d: %w", i, err)
		}
	}
	return nil
}

// elReceive Polls c until every record in lats has arrived, filling lats by
// the sequence number in each value, and closes ready when the warm-up
// record arrives. It returns the records received and the clock offset of
// the last arrival.
func elReceive(ctx context.Context, c *eventlog.Consumer, clock *latencyClock, lats []time.Duration, ready chan<- struct{}) (int, time.Duration, error) {
	var (
		n      int
		last   time.Duration
		warmed bool
		seen   = make([]bool, len(lats))
	)
	for n < len(lats) {
		recs, err := c.Poll(ctx)
		at := clock.now()
		if err != nil {
			return n, last, fmt.Errorf("eventlog poll after %d of %d records: %w", n, len(lats), err)
		}
		for _, rec := range recs {
			seq, ok := valueSeq(rec.Value)
			switch {
			case ok && seq == warmupSeq && !warmed:
				warmed = true
				close(ready)
			case !ok || seq >= uint64(len(lats)) || seen[seq]:
				return n, last, fmt.Errorf("eventlog record at partition %d offset %d: unexpected sequence %d", rec.Partition, rec.Offset, seq)
			default:
				seen[seq] = true
				lats[seq] = clock.since(int(seq), at)
				n++
				last = at
			}
		}
	}
	return n, last, nil
}

// runEventlogFanOut starts p.Groups consumer groups of one member each,
// every member Polling (without committing) in a goroutine of its own until
// it has seen all p.Records records, then times one producer
// async-producing p.Records records of p.Size bytes over p.Partitions
// partitions until its Flush returns. Elapsed is the producer's time alone;
// Extra["consumers_done_s"] is the time from the producer's start until the
// last group had every record. With no groups it is the plain producer.
func runEventlogFanOut(ctx context.Context, p Params) (_ Result, err error) {
	l, pr, closeAll, err := elOpenProducer(p)
	if err != nil {
		return Result{}, err
	}
	defer func() { err = errors.Join(err, closeAll()) }()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		assigned = make(chan struct{}, p.Groups) // one send per member that has taken its partitions
		members  sync.WaitGroup                  // each member has seen everything or failed
		errs     = make([]error, p.Groups)
	)
	// stop ends the members and waits for them; it runs before the
	// deferred Closes (a Consumer is one goroutine's at a time) and before
	// errs is read.
	stop := func() { cancel(); members.Wait() }
	defer stop()
	for i := range p.Groups {
		c, err := elTailer(runCtx, l, fmt.Sprintf("fanout-%02d", i), assigned)
		if err != nil {
			return Result{}, err
		}
		defer c.Close()
		members.Go(func() {
			if errs[i] = elConsumeAll(runCtx, c, p.Records); errs[i] != nil {
				cancel()
			}
		})
	}
	for range p.Groups {
		select {
		case <-assigned:
		case <-runCtx.Done():
			stop()
			return Result{}, fmt.Errorf("eventlog fan-out members never took their partitions: %w", errors.Join(append(errs, runCtx.Err())...))
		}
	}

	value := make([]byte, p.Size)
	start := time.Now()
	if err := elProduceAsync(runCtx, pr, p.Records, value); err != nil {
		stop()
		return Result{}, errors.Join(append(errs, err)...)
	}
	elapsed := time.Since(start)
	members.Wait()
	consumed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return Result{}, err
	}
	return Result{
		Records: p.Records,
		Elapsed: elapsed,
		Extra:   map[string]float64{"consumers_done_s": consumed.Seconds()},
	}, nil
}

// elTailer creates consumer group name over elTopic and joins one member,
// which sends on assigned (buffered) once it has taken its partitions, at
// its first Poll.
func elTailer(ctx context.Context, l *eventlog.Log, name string, assigned chan<- struct{}) (*eventlog.Consumer, error) {
	var once sync.Once
	g, err := l.ConsumerGroup(name, &eventlog.GroupOptions{
		Topics: []string{elTopic},
		OnAssigned: func(context.Context, *eventlog.Consumer, []eventlog.TopicPartition) {
			once.Do(func() { assigned <- struct{}{} })
		},
	})
	if err != nil {
		return nil, fmt.Errorf("eventlog consumer group %s: %w", name, err)
	}
	c, err := g.Join(ctx)
	if err != nil {
		return nil, fmt.Errorf("join eventlog consumer group %s: %w", name, err)
	}
	return c, nil
}

// elConsumeAll Polls c until it has seen n records.
func elConsumeAll(ctx context.Context, c *eventlog.Consumer, n int) error {
	for got := 0; got < n; {
		recs, err := c.Poll(ctx)
		if err != nil {
			return fmt.Errorf("consumer %s: poll after %d of %d records: %w", c.ID(), got, n, err)
		}
		got += len(recs)
	}
	return nil
}
