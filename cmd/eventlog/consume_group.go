package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eventlog/eventlog"
)

// consumeGroupPollInterval is the group's MaxPollInterval. consume is the
// group's only member in its process (it holds the directory), so no
// other member waits for its partitions, and stdout may block for long, as
// when piped into a pager: the default five minutes would evict it.
const consumeGroupPollInterval = 7 * 24 * time.Hour

// consumeGroup prints the records of topic as a member of the consumer
// group, committing each batch once it is written to stdout, so a later run
// continues after the last record printed. With exitAtEnd it returns once
// the group has committed every record there is; otherwise it waits for
// new records until ctx ends.
func consumeGroup(ctx context.Context, l *eventlog.Log, group, topic string, startAt eventlog.StartAt, exitAtEnd bool, out *consumeOut) (err error) {
	opts := &eventlog.GroupOptions{
		Topics:          []string{topic},
		StartAt:         startAt,
		MaxPollInterval: consumeGroupPollInterval,
	}
	if out.room() < 500 {
		opts.MaxPollRecords = int(out.room()) // read no more than -c prints
	}
	g, err := l.ConsumerGroup(group, opts)
	if err != nil {
		return classifyArgError(fmt.Errorf("consumer group %s: %w", group, err))
	}
	t, err := l.Topic(topic)
	if err != nil {
		return err
	}
	c, err := g.Join(ctx)
	if err != nil {
		return fmt.Errorf("join consumer group %s: %w", group, err)
	}
	defer func() {
		if cerr := c.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("leave consumer group %s: %w", group, cerr)
		}
	}()
	// Commits use a context Ctrl-C does not cancel: records printed before
	// it must be committed, or the next run prints them again.
	commitCtx := context.WithoutCancel(ctx)
	for {
		if exitAtEnd {
			done, err := consumeCaughtUp(g, t, startAt)
			if done || err != nil {
				return err
			}
		}
		recs, err := c.Poll(ctx)
		if err != nil {
			return fmt.Errorf("poll consumer group %s: %w", group, err)
		}
		// A Poll's records are in offset order per partition, so a prefix
		// of them is a prefix of each partition's: committing it commits
		// exactly the records printed.
		recs = recs[:min(int64(len(recs)), out.room())]
		var perr error
		for i := range recs {
			if perr = out.print(&recs[i]); perr != nil {
				break
			}
		}
		if perr != nil && !errors.Is(perr, errConsumeLimit) {
			return perr // nothing reached stdout for sure: commit nothing
		}
		if err := out.flush(); err != nil {
			return err
		}
		if err := c.Commit(commitCtx, recs...); err != nil {
			return fmt.Errorf("commit consumer group %s: %w", group, err)
		}
		if perr != nil {
			return perr // errConsumeLimit
		}
	}
}

// consumeCaughtUp reports whether the group has nothing left to read in
// any partition of t: where each partition would be read from next (the
// committed offset, or per startAt without one, as Poll decides) is its
// end. consume is the only member and commits all it prints, so its
// committed offsets are its positions.
func consumeCaughtUp(g *eventlog.ConsumerGroup, t *eventlog.Topic, startAt eventlog.StartAt) (bool, error) {
	for i := range t.Partitions() {
		p, err := t.Partition(i)
		if err != nil {
			return false, err
		}
		first, next := p.FirstOffset(), p.NextOffset()
		pos, ok := g.Committed(t.Name(), i)
		switch {
		case ok && pos >= first:
		case startAt == eventlog.Earliest:
			pos = first // nothing committed, or retention deleted it
		default:
			pos = next
		}
		if pos < next {
			return false, nil
		}
	}
	return true, nil
}
