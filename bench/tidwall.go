package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/tidwall/wal"
)

// The raw github.com/tidwall/wal cases are the floor eventlog builds on: one
// wal.Log per partition, one record per wal entry, no framing, no
// checksums, no offsets and no consumer. Every case uses tidwall's default
// segment size of 20 MB (eventlog's default is 1 MiB): its own defaults are
// what a user of the raw library gets. They open their logs with NoSync set
// and call Sync themselves where a run is durable; WriteBatch without
// NoSync would fsync the same way, once per batch.

// twBatch is the number of entries (one record each) a tidwall
// async-produce run puts in each WriteBatch.
const twBatch = 1000

// The tidwall variants.
const (
	twDurable      = "fsync each batch"
	twNoSync       = "no fsync"
	twGroupDurable = "group-commit goroutine, fsync each set"
	twGroupNoSync  = "group-commit goroutine, no fsync"
	twDefaults     = "default options (20 MB segments)"
)

func init() {
	durable := func(p Params) bool { return p.Durable }
	notDurable := func(p Params) bool { return !p.Durable }
	register(
		Case{Workload: AsyncProduce, System: "tidwall", Variant: twDurable, Supports: durable, Run: runTidwallAsync},
		Case{Workload: AsyncProduce, System: "tidwall", Variant: twNoSync, Supports: notDurable, Run: runTidwallAsync},
		Case{Workload: SyncProduce, System: "tidwall", Variant: twGroupDurable, Supports: durable, Run: runTidwallSync},
		Case{Workload: SyncProduce, System: "tidwall", Variant: twGroupNoSync, Supports: notDurable, Run: runTidwallSync},
		Case{Workload: Replay, System: "tidwall", Variant: twDefaults, Run: runTidwallReplay},
		Case{Workload: IdlePartitions, System: "tidwall", Variant: twDefaults, Supports: twIdleFits, Run: runTidwallIdle},
		Case{Workload: OpenLog, System: "tidwall", Variant: twDefaults, Run: runTidwallOpen},
	)
}

// twDir is the directory of partition i's wal.Log under dir.
func twDir(dir string, i int) string { return filepath.Join(dir, fmt.Sprintf("wal-%04d", i)) }

// twOpen opens partition i's wal.Log under dir with NoSync set and tidwall's
// defaults otherwise. wal.Open writes its defaults into the Options it is
// given, so each call gets a fresh struct.
func twOpen(dir string, i int) (*wal.Log, error) {
	l, err := wal.Open(twDir(dir, i), &wal.Options{NoSync: true})
	if err != nil {
		return nil, fmt.Errorf("open tidwall/wal %s: %w", twDir(dir, i), err)
	}
	return l, nil
}

// twOpenAll opens n partitions' logs under dir. On error it closes those it
// opened.
func twOpenAll(dir string, n int) ([]*wal.Log, error) {
	logs := make([]*wal.Log, 0, n)
	for i := range n {
		l, err := twOpen(dir, i)
		if err != nil {
			return nil, errors.Join(err, twCloseAll(logs))
		}
		logs = append(logs, l)
	}
	return logs, nil
}

// twCloseAll closes logs (each Close fsyncs).
func twCloseAll(logs []*wal.Log) error {
	var errs []error
	for _, l := range logs {
		if err := l.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close tidwall/wal: %w", err))
		}
	}
	return errors.Join(errs...)
}

// twWrite appends n entries of value to l in WriteBatch calls of twBatch
// entries, each followed by Sync if durable, until done or ctx ends.
func twWrite(ctx context.Context, l *wal.Log, n int, value []byte, durable bool) error {
	last, err := l.LastIndex()
	if err != nil {
		return fmt.Errorf("tidwall/wal LastIndex: %w", err)
	}
	var b wal.Batch
	for done := 0; done < n; {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("tidwall/wal write after %d of %d records: %w", done, n, err)
		}
		k := min(twBatch, n-done)
		for range k {
			last++
			b.Write(last, value)
		}
		if err := l.WriteBatch(&b); err != nil { // clears b on success
			return fmt.Errorf("tidwall/wal WriteBatch at index %d: %w", last, err)
		}
		if durable {
			if err := l.Sync(); err != nil {
				return fmt.Errorf("tidwall/wal Sync at index %d: %w", last, err)
			}
		}
		done += k
	}
	return nil
}

// twShare is how many of n records partition i of parts gets: n/parts, and
// one more for the first n%parts partitions.
func twShare(n, parts, i int) int {
	if i < n%parts {
		return n/parts + 1
	}
	return n / parts
}

// runTidwallAsync times one goroutine per partition writing its share of
// p.Records records of p.Size bytes to its own wal.Log, in WriteBatch calls
// of twBatch one-record entries, with an fsync after each batch when
// p.Durable.
func runTidwallAsync(ctx context.Context, p Params) (Result, error) {
	parts := max(p.Partitions, 1)
	logs, err := twOpenAll(p.Dir, parts)
	if err != nil {
		return Result{}, err
	}
	value := bytes.Repeat([]byte{'x'}, p.Size)
	errc := make(chan error, parts)
	start := time.Now()
	for i, l := range logs {
		go func() { errc <- twWrite(ctx, l, twShare(p.Records, parts, i), value, p.Durable) }()
	}
	var errs []error
	for range logs {
		errs = append(errs, <-errc)
	}
	elapsed := time.Since(start)
	if err := errors.Join(append(errs, twCloseAll(logs))...); err != nil {
		return Result{}, err
	}
	return Result{Records: p.Records, Elapsed: elapsed}, nil
}

// runTidwallSync times p.Goroutines goroutines each handing records of
// p.Size bytes, one at a time, to a plain group-commit goroutine over one
// wal.Log and waiting for its answer, until p.Records records are in. The
// group-commit goroutine (twCommitter) is the simplest thing a user of the
// raw library would write to share fsyncs.
func runTidwallSync(ctx context.Context, p Params) (Result, error) {
	l, err := twOpen(p.Dir, 0)
	if err != nil {
		return Result{}, err
	}
	callers := max(p.Goroutines, 1)
	reqs := make(chan twRequest, callers)
	committed := make(chan error, 1)
	go func() { committed <- twCommitter(l, reqs, p.Durable) }()

	value := bytes.Repeat([]byte{'x'}, p.Size)
	elapsed, err := runCallers(callers, p.Records, "tidwall group commit callers", func(int) func() error {
		done := make(chan error, 1)
		return func() error {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("tidwall group commit caller: %w", err)
			}
			reqs <- twRequest{data: value, done: done}
			return <-done
		}
	})
	close(reqs)
	if err := errors.Join(err, <-committed, twCloseAll([]*wal.Log{l})); err != nil {
		return Result{}, err
	}
	return Result{Records: p.Records, Elapsed: elapsed}, nil
}

// twRequest is one caller's record for the group-commit goroutine, and
// where the caller waits for its answer.
type twRequest struct {
	data []byte
	done chan<- error
}

// twCommitter is a plain group-commit goroutine over l: it takes the first
// waiting request, gathers every other one already waiting, writes them all
// with one WriteBatch (one entry each) and one Sync if durable, and answers
// each. It returns when reqs is closed. After a failure it answers every
// later request with that error (tidwall/wal cannot be retried safely).
func twCommitter(l *wal.Log, reqs <-chan twRequest, durable bool) error {
	last, err := l.LastIndex()
	if err != nil {
		return fmt.Errorf("tidwall/wal LastIndex: %w", err)
	}
	var (
		b       wal.Batch
		waiting []chan<- error
		failed  error
	)
	for r := range reqs {
		waiting = append(waiting[:0], r.done)
		b.Write(last+1, r.data)
	gather:
		for {
			select {
			case r, ok := <-reqs:
				if !ok {
					break gather
				}
				waiting = append(waiting, r.done)
				b.Write(last+uint64(len(waiting)), r.data)
			default:
				break gather
			}
		}
		err := failed
		if err == nil {
			err = l.WriteBatch(&b)
			if err == nil && durable {
				err = l.Sync()
			}
			if err != nil {
				failed = fmt.Errorf("tidwall/wal group commit of %d records at index %d: %w", len(waiting), last+1, err)
				err = failed
			}
		}
		b.Clear()
		last += uint64(len(waiting))
		for _, done := range waiting {
			done <- err
		}
	}
	return failed
}
