package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/eventlog/eventlog"
)

// idleFor is how long an idle-partitions run leaves its store alone before
// reading its RSS, so background work (Go's scavenger returning freed
// memory, the store's own housekeeping) has happened.
const idleFor = 2 * time.Second

// elBigRecord is the record size of the byte-sized workloads when
// Params.Size is zero.
const elBigRecord = 1024

// paramSize is p.Size, or 1 KiB for workloads (idle-partitions, open) that
// are sized in bytes and may leave the record size zero.
func paramSize(p Params) int {
	if p.Size > 0 {
		return p.Size
	}
	return elBigRecord
}

// elFill writes perPartition records of value to each of elTopic's
// partitions, one partition after the other, and waits until all are
// acknowledged. Filling partition by partition keeps each one's newest
// segment resident only while it is written, which is quick and is not what
// the workloads using it measure (they time what happens after).
func elFill(ctx context.Context, l *eventlog.Log, partitions, perPartition int, value []byte) error {
	pr, err := l.NewProducer(&eventlog.ProducerOptions{Partitioner: eventlog.ManualPartitioner()})
	if err != nil {
		return fmt.Errorf("new eventlog producer: %w", err)
	}
	var errs failures
	cb := func(_ eventlog.Record, err error) { errs.add(err) } // one func value, not one per record
	for i := range partitions {
		for range perPartition {
			pr.ProduceAsync(eventlog.Record{Topic: elTopic, Partition: i, Value: value}, cb)
		}
	}
	if err := pr.Flush(ctx); err != nil {
		return errors.Join(fmt.Errorf("flush eventlog producer: %w", err), pr.Close())
	}
	if err := pr.Close(); err != nil {
		return fmt.Errorf("close eventlog producer: %w", err)
	}
	return errs.err("eventlog async produces")
}

// elWriteClosed creates a Log in dir holding perPartition records of size
// bytes in each of partitions partitions, written without fsync, and closes
// it (Close fsyncs everything).
func elWriteClosed(ctx context.Context, dir string, partitions, perPartition, size int) error {
	l, err := elOpen(dir, eventlog.SyncNever, partitions)
	if err != nil {
		return err
	}
	err = elFill(ctx, l, partitions, perPartition, bytes.Repeat([]byte{'x'}, size))
	if cerr := l.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close eventlog: %w", cerr))
	}
	return err
}

// elReopen opens the Log in dir with default options. It returns elTopic
// too.
func elReopen(dir string) (*eventlog.Log, *eventlog.Topic, error) {
	l, err := eventlog.Open(dir, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("reopen eventlog in %s: %w", dir, err)
	}
	t, err := l.Topic(elTopic)
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("reopen eventlog: %w", err), l.Close())
	}
	return l, t, nil
}

// runEventlogReplay writes p.Records records of p.Size bytes over
// p.Partitions partitions and closes the Log (untimed), then times opening
// it again and reading every record once with Partition.Read, partition by
// partition. The records a Read yields are the caller's own copies.
func runEventlogReplay(ctx context.Context, p Params) (Result, error) {
	parts := max(p.Partitions, 1)
	var n int
	elapsed, err := elTimedReopen(ctx, p, parts, p.Records/parts, p.Size, func(i int, part *eventlog.Partition) error {
		for rec, err := range part.Read(ctx, part.FirstOffset()) {
			if err != nil {
				return fmt.Errorf("partition %d after %d records: %w", i, n, err)
			}
			if len(rec.Value) != p.Size {
				return fmt.Errorf("partition %d offset %d: %d value bytes, want %d", i, rec.Offset, len(rec.Value), p.Size)
			}
			n++
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("replay: %w", err)
	}
	if want := parts * (p.Records / parts); n != want {
		return Result{}, fmt.Errorf("replay read %d records, want %d", n, want)
	}
	return Result{Records: n, Elapsed: elapsed}, nil
}

// elTimedReopen writes perPartition records of size bytes to each of
// partitions partitions of a Log in p.Dir and closes it, and if p.Cold drops
// its files from the page cache, all untimed. It then times opening the Log
// again and calling visit with each partition of elTopic in turn, until
// visit's last return; closing the Log afterwards is not timed.
func elTimedReopen(ctx context.Context, p Params, partitions, perPartition, size int, visit func(i int, part *eventlog.Partition) error) (_ time.Duration, err error) {
	if err := elWriteClosed(ctx, p.Dir, partitions, perPartition, size); err != nil {
		return 0, err
	}
	if p.Cold { // as for tidwall and NATS
		if err := dropCache(p.Dir); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	l, t, err := elReopen(p.Dir)
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := l.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close reopened eventlog: %w", cerr))
		}
	}()
	for i := range t.Partitions() {
		part, err := t.Partition(i)
		if err != nil {
			return 0, err
		}
		if err := visit(i, part); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// runEventlogIdle writes p.BytesPerPartition bytes of records to each of
// p.Partitions partitions (timed, for information) and then leaves the Log
// open and idle: it collects garbage, returns free memory to the operating
// system, waits idleFor and reports the process's RSS in Extra["rss_idle"]
// (and right after writing in Extra["rss_written"]).
func runEventlogIdle(ctx context.Context, p Params) (Result, error) {
	size := paramSize(p)
	per := int(p.BytesPerPartition / int64(size))
	l, err := elOpen(p.Dir, eventlog.SyncNever, p.Partitions)
	if err != nil {
		return Result{}, err
	}
	defer l.Close()
	start := time.Now()
	if err := elFill(ctx, l, p.Partitions, per, bytes.Repeat([]byte{'x'}, size)); err != nil {
		return Result{}, err
	}
	return idleResult(ctx, p.Partitions*per, time.Since(start))
}

// idleResult is the Result of an idle-partitions run that wrote records
// records in elapsed: it reads the RSS right away, as Extra["rss_written"],
// and after rssAfterIdle, as Extra["rss_idle"].
func idleResult(ctx context.Context, records int, elapsed time.Duration) (Result, error) {
	written := rssNow()
	idle, err := rssAfterIdle(ctx)
	if err != nil {
		return Result{}, err
	}
	return Result{
		Records: records,
		Elapsed: elapsed,
		Extra:   map[string]float64{"rss_idle": float64(idle), "rss_written": float64(written)},
	}, nil
}

// rssAfterIdle collects garbage, returns what is free to the operating system,
// idles for idleFor and returns the RSS then.
func rssAfterIdle(ctx context.Context) (int64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	select {
	case <-time.After(idleFor):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return rssNow(), nil
}

// runEventlogOpen writes p.BytesPerPartition bytes of records to each of
// p.Partitions partitions and closes the Log (untimed). It then times Open
// plus making every partition ready to append to and to read: it asks each
// partition for its NextOffset and reads its newest record. eventlog may
// load a partition's storage lazily, on first use, so stopping the clock
// at Open's return would not count that work; this counts it, as a user's
// first produce or read would. With p.Cold the page cache of the files is
// dropped before the timed part.
//
// Records is the number of records the opened log holds.
func runEventlogOpen(ctx context.Context, p Params) (Result, error) {
	size := paramSize(p)
	per := int(p.BytesPerPartition / int64(size))
	var total int64
	elapsed, err := elTimedReopen(ctx, p, p.Partitions, per, size, func(i int, part *eventlog.Partition) error {
		next := part.NextOffset()
		total += next - part.FirstOffset()
		if next == 0 {
			return nil
		}
		for rec, err := range part.Read(ctx, next-1) {
			if err != nil {
				return fmt.Errorf("read newest record of partition %d: %w", i, err)
			}
			if rec.Offset != next-1 {
				return fmt.Errorf("partition %d: read offset %d, want %d", i, rec.Offset, next-1)
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("open: %w", err)
	}
	if want := int64(p.Partitions * per); total != want {
		return Result{}, fmt.Errorf("opened log holds %d records, want %d", total, want)
	}
	return Result{Records: int(total), Elapsed: elapsed}, nil
}
