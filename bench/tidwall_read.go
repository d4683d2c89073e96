package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/wal"
)

// twFill creates parts wal.Logs under dir, writes per records of size bytes
// to each (WriteBatch of twBatch one-record entries, no fsync), and returns
// them open.
func twFill(ctx context.Context, dir string, parts, per, size int) ([]*wal.Log, error) {
	logs, err := twOpenAll(dir, parts)
	if err != nil {
		return nil, err
	}
	value := bytes.Repeat([]byte{'x'}, size)
	for _, l := range logs {
		if err := twWrite(ctx, l, per, value, false); err != nil {
			return nil, errors.Join(err, twCloseAll(logs))
		}
	}
	return logs, nil
}

// twWriteClosed is twFill followed by closing every log (which fsyncs).
func twWriteClosed(ctx context.Context, dir string, parts, per, size int) error {
	logs, err := twFill(ctx, dir, parts, per, size)
	if err != nil {
		return err
	}
	return twCloseAll(logs)
}

// twReopen opens partition i's log under dir with tidwall's default
// options (as wal.Open(path, nil) would, without writing into the shared
// wal.DefaultOptions).
func twReopen(dir string, i int) (*wal.Log, error) {
	l, err := wal.Open(twDir(dir, i), &wal.Options{})
	if err != nil {
		return nil, fmt.Errorf("reopen tidwall/wal %s: %w", twDir(dir, i), err)
	}
	return l, nil
}

// twBounds returns l's first and last index.
func twBounds(l *wal.Log) (first, last uint64, err error) {
	if first, err = l.FirstIndex(); err == nil {
		last, err = l.LastIndex()
	}
	if err != nil {
		return 0, 0, fmt.Errorf("tidwall/wal bounds: %w", err)
	}
	return first, last, nil
}

// runTidwallReplay writes p.Records records of p.Size bytes, one per entry,
// over p.Partitions logs and closes them (untimed); then, after dropping
// the page cache if p.Cold, it times opening each log again and calling
// Read for every index, which returns a copy of the entry (tidwall's
// default; NoCopy is off).
func runTidwallReplay(ctx context.Context, p Params) (Result, error) {
	parts := max(p.Partitions, 1)
	if err := twWriteClosed(ctx, p.Dir, parts, p.Records/parts, p.Size); err != nil {
		return Result{}, err
	}
	if p.Cold {
		if err := dropCache(p.Dir); err != nil {
			return Result{}, err
		}
	}
	start := time.Now()
	var n int
	for i := range parts {
		got, err := twReadAll(p.Dir, i, p.Size)
		n += got
		if err != nil {
			return Result{}, err
		}
	}
	elapsed := time.Since(start)
	if want := parts * (p.Records / parts); n != want {
		return Result{}, fmt.Errorf("tidwall replay read %d records, want %d", n, want)
	}
	return Result{Records: n, Elapsed: elapsed}, nil
}

// twReadAll opens partition i's log under dir, reads every entry and
// closes it. It returns the number of entries read.
func twReadAll(dir string, i, size int) (int, error) {
	l, err := twReopen(dir, i)
	if err != nil {
		return 0, err
	}
	defer l.Close()
	first, last, err := twBounds(l)
	if err != nil {
		return 0, err
	}
	var n int
	for idx := first; idx <= last && last > 0; idx++ {
		data, err := l.Read(idx)
		if err != nil {
			return n, fmt.Errorf("tidwall/wal %s Read(%d): %w", twDir(dir, i), idx, err)
		}
		if len(data) != size {
			return n, fmt.Errorf("tidwall/wal %s Read(%d): %d bytes, want %d", twDir(dir, i), idx, len(data), size)
		}
		n++
	}
	return n, nil
}

// runTidwallIdle writes p.BytesPerPartition bytes of records to each of
// p.Partitions logs (timed, for information), keeps them all open and
// idle, and reports the RSS after idling in Extra["rss_idle"] (and right
// after writing in Extra["rss_written"]). tidwall/wal holds each log's
// newest segment (up to 20 MB) in memory, so this grows with partitions.
func runTidwallIdle(ctx context.Context, p Params) (Result, error) {
	size := paramSize(p)
	per := int(p.BytesPerPartition / int64(size))
	start := time.Now()
	logs, err := twFill(ctx, p.Dir, p.Partitions, per, size)
	if err != nil {
		return Result{}, err
	}
	res, err := idleResult(ctx, p.Partitions*per, time.Since(start))
	if err := errors.Join(err, twCloseAll(logs)); err != nil {
		return Result{}, err
	}
	return res, nil
}

// twSegmentSize is tidwall/wal's default segment size, which every
// tidwall case uses.
const twSegmentSize = 20 << 20

// twIdleFits reports whether an idle-partitions run of tidwall fits in
// memory: each open log keeps its newest segment, up to twSegmentSize, in a
// slice grown by append (up to a quarter more capacity than it holds), so
// 1,000 logs of 10 MB need about 12 GB. A run needing more than half the
// memory available now is not started: it would push the machine into
// swapping or the OOM killer rather than measure anything.
func twIdleFits(p Params) bool {
	need := int64(p.Partitions) * min(p.BytesPerPartition, twSegmentSize) * 5 / 4
	avail, err := memAvailable()
	return err == nil && need <= avail/2
}

// memAvailable returns MemAvailable from /proc/meminfo, in bytes.
func memAvailable() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			fields := strings.Fields(rest) // "123456 kB"
			if len(fields) == 0 {
				break
			}
			kb, err := strconv.ParseInt(fields[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse /proc/meminfo MemAvailable: %w", err)
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read /proc/meminfo: %w", err)
	}
	return 0, errors.New("no MemAvailable in /proc/meminfo")
}

// runTidwallOpen writes p.BytesPerPartition bytes of records to each of
// p.Partitions logs and closes them (untimed); then, after dropping the
// page cache if p.Cold, it times opening every log with default options,
// asking each for its FirstIndex and LastIndex and reading its last entry,
// the same readiness the eventlog case asks of its partitions.
//
// Records is the number of records the opened logs hold.
func runTidwallOpen(ctx context.Context, p Params) (_ Result, err error) {
	size := paramSize(p)
	per := int(p.BytesPerPartition / int64(size))
	if err := twWriteClosed(ctx, p.Dir, p.Partitions, per, size); err != nil {
		return Result{}, err
	}
	if p.Cold {
		if err := dropCache(p.Dir); err != nil {
			return Result{}, err
		}
	}
	start := time.Now()
	logs := make([]*wal.Log, 0, p.Partitions)
	defer func() { err = errors.Join(err, twCloseAll(logs)) }()
	var total uint64
	for i := range p.Partitions {
		l, err := twReopen(p.Dir, i)
		if err != nil {
			return Result{}, err
		}
		logs = append(logs, l)
		first, last, err := twBounds(l)
		if err != nil {
			return Result{}, err
		}
		if last == 0 {
			continue
		}
		total += last - first + 1
		if _, err := l.Read(last); err != nil {
			return Result{}, fmt.Errorf("tidwall/wal %s Read(%d): %w", twDir(p.Dir, i), last, err)
		}
	}
	elapsed := time.Since(start)
	if want := uint64(p.Partitions * per); total != want {
		return Result{}, fmt.Errorf("opened tidwall logs hold %d records, want %d", total, want)
	}
	return Result{Records: int(total), Elapsed: elapsed}, nil
}
