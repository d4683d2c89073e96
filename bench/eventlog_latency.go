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
	a := newArrivals(p.Records, 1)
	return runLatency(runCtx, cancel, "eventlog", a,
		func(ctx context.Context) error { return elReceive(ctx, c, a) },
		func(ctx context.Context) error {
			if _, err := pr.Produce(ctx, eventlog.Record{Topic: elTopic, Value: seqValue(warmupSeq, p.Size)}); err != nil {
				return fmt.Errorf("eventlog warm-up produce: %w", err)
			}
			return nil
		},
		func(ctx context.Context) error { return elSendPaced(ctx, pr, p, a.clock) })
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

// elReceive Polls c until every timed record has arrived, recording each
// on a at the return of the Poll that delivered it.
func elReceive(ctx context.Context, c *eventlog.Consumer, a *arrivals) error {
	for !a.complete() {
		recs, err := c.Poll(ctx)
		at := a.clock.now()
		if err != nil {
			return fmt.Errorf("eventlog poll after %d of %d records: %w", a.arrived(), len(a.lats), err)
		}
		for _, rec := range recs {
			if err := a.arrive(rec.Value, at); err != nil {
				return fmt.Errorf("eventlog record at partition %d offset %d: %w", rec.Partition, rec.Offset, err)
			}
		}
	}
	return nil
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
