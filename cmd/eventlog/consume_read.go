package main

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"iter"

	"golang.org/x/sync/errgroup"

	"github.com/eventlog/eventlog"
)

// consumeSpan is one partition to read, from start up to end (its
// NextOffset when reading began).
type consumeSpan struct {
	p          *eventlog.Partition
	start, end int64
}

// consumeRead prints the records of spans: first those already there, up
// to each span's end, merged across partitions by record time (ties in
// partition order) so that a topic replays in the order its records were
// written; then, if follow, new records of every partition as they arrive,
// until ctx ends. Records of one partition always come in offset order.
func consumeRead(ctx context.Context, spans []consumeSpan, follow bool, out *consumeOut) error {
	if err := consumeMerge(ctx, spans, out); err != nil {
		return err
	}
	if !follow {
		return nil
	}
	return consumeFollow(ctx, spans, out)
}

// consumeHead is the next record of one partition in consumeMerge.
type consumeHead struct {
	p    *eventlog.Partition
	rec  eventlog.Record
	next func() (eventlog.Record, error, bool)
	stop func()
	end  int64
}

// consumeHeads is a min-heap of partitions by the time of their next
// record.
type consumeHeads []*consumeHead

func (h consumeHeads) Len() int { return len(h) }
func (h consumeHeads) Less(i, j int) bool {
	if c := h[i].rec.Time.Compare(h[j].rec.Time); c != 0 {
		return c < 0
	}
	return h[i].rec.Partition < h[j].rec.Partition
}
func (h consumeHeads) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *consumeHeads) Push(x any)   { *h = append(*h, x.(*consumeHead)) }
func (h *consumeHeads) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// advance reads the head's next record. It returns false at the end of
// its span, having released the reader.
func (c *consumeHead) advance() (bool, error) {
	rec, err, ok := c.next()
	switch {
	case !ok || (err == nil && rec.Offset >= c.end):
		c.stop()
		return false, nil
	case err != nil:
		c.stop()
		return false, err
	}
	c.rec = rec
	return true, nil
}

// consumeMerge prints the records of every span from start to end, the
// oldest next record first.
func consumeMerge(ctx context.Context, spans []consumeSpan, out *consumeOut) (err error) {
	var heads consumeHeads
	defer func() {
		for _, h := range heads {
			h.stop() // a second stop of a finished head does nothing
		}
	}()
	for _, s := range spans {
		if s.start >= s.end {
			continue
		}
		next, stop := iter.Pull2(s.p.Read(ctx, s.start))
		h := &consumeHead{p: s.p, next: next, stop: stop, end: s.end}
		ok, err := h.advance()
		if err != nil {
			return consumeReadError(s.p, err)
		}
		if ok {
			heads = append(heads, h)
		}
	}
	heap.Init(&heads)
	for len(heads) > 0 {
		h := heads[0]
		if err := out.print(&h.rec); err != nil {
			return err
		}
		ok, err := h.advance()
		switch {
		case err != nil:
			return consumeReadError(h.p, err)
		case ok:
			heap.Fix(&heads, 0)
		default:
			heap.Pop(&heads)
		}
	}
	return nil
}

// consumeFollow prints the records of every span from its end on as they
// are appended, until ctx ends or -c is reached. Each partition is tailed
// by its own goroutine; the output is flushed whenever no record is
// waiting, so a reader sees each record as soon as it arrives.
func consumeFollow(ctx context.Context, spans []consumeSpan, out *consumeOut) error {
	if err := out.flush(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recs := make(chan eventlog.Record, 256)
	g, gctx := errgroup.WithContext(ctx)
	for _, s := range spans {
		g.Go(func() error {
			for rec, err := range s.p.Tail(gctx, s.end) {
				if err != nil {
					return consumeReadError(s.p, err)
				}
				select {
				case recs <- rec:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}
	done := make(chan error, 1)
	go func() {
		done <- g.Wait()
		close(recs)
	}()

	err := consumeDrain(recs, out)
	cancel()
	for range recs {
		// let the tailing goroutines see the cancellation and end
	}
	if werr := <-done; err == nil && !errors.Is(werr, context.Canceled) {
		err = werr
	}
	return err
}

// consumeDrain prints the records received on recs until it is closed or
// printing ends with an error (including errConsumeLimit).
func consumeDrain(recs <-chan eventlog.Record, out *consumeOut) error {
	for {
		var rec eventlog.Record
		var ok bool
		select {
		case rec, ok = <-recs:
		default:
			// Nothing waiting: show what was printed before blocking.
			if err := out.flush(); err != nil {
				return err
			}
			rec, ok = <-recs
		}
		if !ok {
			return nil
		}
		if err := out.print(&rec); err != nil {
			return err
		}
	}
}

// consumeReadError wraps a read error with its partition, leaving ctx's
// error (Ctrl-C) as it is.
func consumeReadError(p *eventlog.Partition, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("read partition %d of %s: %w", p.ID(), p.Topic(), err)
}
