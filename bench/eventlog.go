package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eventlog/eventlog"
)

// elTopic is the one topic every eventlog case writes to.
const elTopic = "bench"

// The eventlog variants name the sync policy a run uses.
const (
	elDurable  = "fsync (group commit)" // SyncAlways, the default
	elNoSync   = "no fsync"             // SyncNever
	elDefaults = "default options"      // the timed part only reads or opens
)

func init() {
	durable := func(p Params) bool { return p.Durable }
	notDurable := func(p Params) bool { return !p.Durable }
	for _, c := range []struct {
		workload string
		run      func(context.Context, Params) (Result, error)
	}{
		{AsyncProduce, runEventlogAsync},
		{SyncProduce, runEventlogSync},
		{Latency, runEventlogLatency},
		{FanOut, runEventlogFanOut},
	} {
		register(
			Case{Workload: c.workload, System: "eventlog", Variant: elDurable, Supports: durable, Run: c.run},
			Case{Workload: c.workload, System: "eventlog", Variant: elNoSync, Supports: notDurable, Run: c.run},
		)
	}
	register(
		Case{Workload: Replay, System: "eventlog", Variant: elDefaults, Run: runEventlogReplay},
		Case{Workload: IdlePartitions, System: "eventlog", Variant: elDefaults, Run: runEventlogIdle},
		Case{Workload: OpenLog, System: "eventlog", Variant: elDefaults, Run: runEventlogOpen},
	)
}

// elPolicy is the sync policy for p: SyncAlways (the default, fsync with
// group commit) when p.Durable, else SyncNever.
func elPolicy(p Params) eventlog.SyncPolicy {
	if p.Durable {
		return eventlog.SyncAlways
	}
	return eventlog.SyncNever
}

// elOpen opens a Log in dir under policy, with every other option at its
// default, and creates elTopic with partitions partitions. The caller must
// Close the Log.
func elOpen(dir string, policy eventlog.SyncPolicy, partitions int) (*eventlog.Log, error) {
	l, err := eventlog.Open(dir, &eventlog.Options{Sync: policy})
	if err != nil {
		return nil, fmt.Errorf("open eventlog in %s: %w", dir, err)
	}
	if _, err := l.CreateTopic(elTopic, eventlog.TopicConfig{Partitions: max(partitions, 1)}); err != nil {
		return nil, errors.Join(fmt.Errorf("create topic %q: %w", elTopic, err), l.Close())
	}
	return l, nil
}

// elOpenProducer is elOpen plus a Producer with default options. Its
// close func closes both (flushing and fsyncing what is left) and reports
// their errors.
func elOpenProducer(p Params) (*eventlog.Log, *eventlog.Producer, func() error, error) {
	l, err := elOpen(p.Dir, elPolicy(p), p.Partitions)
	if err != nil {
		return nil, nil, nil, err
	}
	pr, err := l.NewProducer(nil)
	if err != nil {
		return nil, nil, nil, errors.Join(fmt.Errorf("new eventlog producer: %w", err), l.Close())
	}
	closeAll := func() error {
		perr, lerr := pr.Close(), l.Close()
		if perr != nil {
			perr = fmt.Errorf("close eventlog producer: %w", perr)
		}
		if lerr != nil {
			lerr = fmt.Errorf("close eventlog: %w", lerr)
		}
		return errors.Join(perr, lerr)
	}
	return l, pr, closeAll, nil
}

// elProduceAsync hands n records of value to pr with ProduceAsync (nil
// keys, so the Producer's default partitioner spreads them over the
// topic's partitions in sticky batches of about 16 KiB, taking each
// partition in turn: as even as one goroutine per partition, and what a
// user gets without choosing) and waits with Flush until all are
// acknowledged. Every record shares value's bytes, which is allowed as
// nobody modifies them.
func elProduceAsync(ctx context.Context, pr *eventlog.Producer, n int, value []byte) error {
	var errs failures
	cb := func(_ eventlog.Record, err error) { errs.add(err) } // one func value, not one per record
	for i := range n {
		if i%4096 == 0 && ctx.Err() != nil {
			return fmt.Errorf("eventlog async produce after %d of %d records: %w", i, n, ctx.Err())
		}
		pr.ProduceAsync(eventlog.Record{Topic: elTopic, Value: value}, cb)
	}
	if err := pr.Flush(ctx); err != nil {
		return fmt.Errorf("flush eventlog producer: %w", err)
	}
	return errs.err("eventlog async produces")
}

// runEventlogAsync times p.Records ProduceAsync calls of p.Size-byte records
// over p.Partitions partitions, up to the return of the Flush that waits for
// every acknowledgement (each one durable under elPolicy(p)).
func runEventlogAsync(ctx context.Context, p Params) (_ Result, err error) {
	l, pr, closeAll, err := elOpenProducer(p)
	if err != nil {
		return Result{}, err
	}
	defer func() { err = errors.Join(err, closeAll()) }()

	// One goroutine per partition, as the tidwall case writes each WAL from
	// a goroutine of its own; all share the one Producer, whose default
	// partitioner spreads their keyless records.
	value := bytes.Repeat([]byte{'x'}, p.Size)
	senders := max(p.Partitions, 1)
	errc := make(chan error, senders)
	start := time.Now()
	for i := range senders {
		n := p.Records / senders
		if i == 0 {
			n += p.Records % senders
		}
		go func() { errc <- elProduceAsync(ctx, pr, n, value) }()
	}
	for range senders {
		err = errors.Join(err, <-errc)
	}
	if err != nil {
		return Result{}, err
	}
	elapsed := time.Since(start)
	return Result{Records: p.Records, Elapsed: elapsed}, elCheckCount(l, p.Records)
}

// runEventlogSync times p.Goroutines goroutines calling Produce on one
// shared Producer until p.Records records are acknowledged (each durable
// under elPolicy(p)): concurrent calls share one write and fsync per
// partition (group commit).
func runEventlogSync(ctx context.Context, p Params) (_ Result, err error) {
	l, pr, closeAll, err := elOpenProducer(p)
	if err != nil {
		return Result{}, err
	}
	defer func() { err = errors.Join(err, closeAll()) }()

	value := bytes.Repeat([]byte{'x'}, p.Size)
	elapsed, err := runCallers(p.Goroutines, p.Records, "eventlog produce callers", func(int) func() error {
		return func() error {
			if _, err := pr.Produce(ctx, eventlog.Record{Topic: elTopic, Value: value}); err != nil {
				return fmt.Errorf("eventlog produce: %w", err)
			}
			return nil
		}
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Records: p.Records, Elapsed: elapsed}, elCheckCount(l, p.Records)
}

// elCheckCount checks that elTopic's partitions hold want records in all.
func elCheckCount(l *eventlog.Log, want int) error {
	t, err := l.Topic(elTopic)
	if err != nil {
		return fmt.Errorf("count records: %w", err)
	}
	var got int64
	for i := range t.Partitions() {
		part, err := t.Partition(i)
		if err != nil {
			return fmt.Errorf("count records: %w", err)
		}
		got += part.NextOffset() - part.FirstOffset()
	}
	if got != int64(want) {
		return fmt.Errorf("eventlog topic %q holds %d records, want %d", elTopic, got, want)
	}
	return nil
}
