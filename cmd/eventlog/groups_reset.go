package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventlog/eventlog"
)

// groupsResetOpts are the flags of groups reset.
type groupsResetOpts struct {
	topic      string
	partitions []int
	earliest   bool
	latest     bool
	toTime     string
	toOffset   int64
	dryRun     bool

	at       time.Time // parsed toTime
	byOffset bool      // --to-offset was given
}

func newGroupsResetCmd(a *app) *cobra.Command {
	var o groupsResetOpts
	cmd := &cobra.Command{
		Use:   "reset GROUP --topic TOPIC (--to-earliest | --to-latest | --to-time TIME | --to-offset N)",
		Short: "Move a group's committed offsets on one topic",
		Long: `reset sets the group's committed offset on every partition of TOPIC (or
on the partitions given with -p) to one of:

  --to-earliest     the partition's first record still held (log start)
  --to-latest       the log end: the group skips everything written so far
  --to-time TIME    the first record whose time is at or after TIME
  --to-offset N     offset N, moved into [log start, log end] if outside

TIME is RFC 3339 ("2024-05-01T12:00:00Z", "2024-05-01T14:00:00+02:00"), a
date ("2024-05-01", midnight UTC), Unix milliseconds ("1714564800000"), or
a time before now: "-1h30m", "-7d".

The new offsets are durable before reset returns; it prints the old and the
new offset of each partition. With --dry-run it prints them and changes
nothing. A group that does not exist yet is created with these offsets.
Offsets the group has on other topics are not touched.`,
		Example: `  eventlog groups reset billing --topic orders --to-earliest
  eventlog groups reset billing --topic orders -p 0 -p 3 --to-offset 1200
  eventlog groups reset billing --topic orders --to-time -2h --dry-run`,
		Args: argsBetween(1, 1, "one group name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.byOffset = cmd.Flags().Changed("to-offset")
			if err := o.check(); err != nil {
				return err
			}
			return groupsReset(a, cmd.OutOrStdout(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.topic, "topic", "t", "", "topic whose offsets to move (required)")
	f.IntSliceVarP(&o.partitions, "partition", "p", nil, "only these partitions (repeat or comma-separate; default all)")
	f.BoolVar(&o.earliest, "to-earliest", false, "move to the first record held")
	f.BoolVar(&o.latest, "to-latest", false, "move to the log end")
	f.StringVar(&o.toTime, "to-time", "", "move to the first record at or after `TIME`")
	f.Int64Var(&o.toOffset, "to-offset", 0, "move to offset `N`")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the new offsets, commit nothing")
	return cmd
}

// check validates the flags and parses --to-time.
func (o *groupsResetOpts) check() error {
	switch {
	case o.topic == "":
		return usageError("groups reset needs --topic")
	case strings.HasPrefix(o.topic, "__"):
		return usageError("--topic %s: internal topics have no consumer groups", o.topic)
	}
	n := 0
	for _, set := range []bool{o.earliest, o.latest, o.toTime != "", o.byOffset} {
		if set {
			n++
		}
	}
	if n != 1 {
		return usageError("groups reset needs exactly one of --to-earliest, --to-latest, --to-time, --to-offset")
	}
	if o.byOffset && o.toOffset < 0 {
		return usageError("--to-offset %d: offsets are not negative", o.toOffset)
	}
	for _, p := range o.partitions {
		if p < 0 {
			return usageError("--partition %d: partitions are numbered from 0", p)
		}
	}
	if o.toTime != "" {
		at, err := groupsParseTime(o.toTime, time.Now())
		if err != nil {
			return usageError("--to-time: %v", err)
		}
		o.at = at
	}
	return nil
}

// groupsParseTime parses a --to-time value; see the help of groups reset.
func groupsParseTime(s string, now time.Time) (time.Time, error) {
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		d, err := parseDuration(rest)
		if err != nil {
			return time.Time{}, err
		}
		return now.Add(-d), nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time such as 2024-05-01T12:00:00Z, 2024-05-01, Unix milliseconds or -1h", s)
}

// groupsMove is one partition's offset change.
type groupsMove struct {
	tp       eventlog.TopicPartition
	old      *int64 // nil: nothing committed
	new      int64
	note     string // why new is not what was asked, if it is not
	logStart int64
	logEnd   int64
}

func groupsReset(a *app, w io.Writer, group string, o groupsResetOpts) (err error) {
	l, err := a.open(false)
	if err != nil {
		return err
	}
	defer closeLog(l, &err)

	t, err := l.Topic(o.topic)
	if err != nil {
		return classifyArgError(err)
	}
	parts := o.partitions
	if len(parts) == 0 {
		for i := range t.Partitions() {
			parts = append(parts, i)
		}
	}
	parts = slices.Compact(slices.Sorted(slices.Values(parts)))

	exists := slices.Contains(l.Groups(), group)
	var g *eventlog.ConsumerGroup
	// poll ends the member's first Poll as soon as it has taken its
	// partitions (OnAssigned cancels it): that is all the member is for.
	// The timeout only guards against a Poll that never takes them.
	poll, assigned := context.WithTimeout(context.Background(), time.Minute)
	defer assigned()
	if exists || !o.dryRun {
		g, err = l.ConsumerGroup(group, &eventlog.GroupOptions{
			Topics:         []string{o.topic},
			MaxPollRecords: 1,
			OnAssigned: func(context.Context, *eventlog.Consumer, []eventlog.TopicPartition) {
				assigned()
			},
		})
		if err != nil {
			return classifyArgError(err)
		}
	}

	moves := make([]groupsMove, 0, len(parts))
	for _, i := range parts {
		p, err := t.Partition(i)
		if err != nil {
			return usageError("%v", err)
		}
		m, err := o.target(p)
		if err != nil {
			return err
		}
		if g != nil {
			if off, ok := g.Committed(o.topic, i); ok {
				m.old = &off
			}
		}
		moves = append(moves, m)
	}

	if !o.dryRun {
		if err := groupsCommit(poll, g, moves); err != nil {
			return fmt.Errorf("reset group %q: %w", group, err)
		}
	}
	return groupsPrintMoves(w, group, moves, o.dryRun)
}

// target works out where partition p's committed offset goes.
func (o *groupsResetOpts) target(p *eventlog.Partition) (groupsMove, error) {
	first, next := p.FirstOffset(), p.NextOffset()
	m := groupsMove{tp: eventlog.TopicPartition{Topic: p.Topic(), Partition: p.ID()}, logStart: first, logEnd: next}
	switch {
	case o.earliest:
		m.new = first
	case o.latest:
		m.new = next
	case o.toTime != "":
		off, err := p.OffsetForTime(o.at)
		if err != nil {
			return m, err
		}
		m.new = off
		if off == next {
			m.note = "no record at or after the time: log end"
		}
	default:
		m.new = o.toOffset
		switch {
		case o.toOffset < first:
			m.new, m.note = first, fmt.Sprintf("%d is below the log start", o.toOffset)
		case o.toOffset > next:
			m.new, m.note = next, fmt.Sprintf("%d is past the log end", o.toOffset)
		}
	}
	return m, nil
}

// groupsCommit commits the moves as the group's only member. Commits need
// a member that owns the partitions: it joins, takes every partition of
// the topic at its first Poll (which ends when poll does, cancelled by the
// group's OnAssigned), commits and leaves. The group has no AutoCommit and
// no OnRevoked, so leaving commits nothing over the new offsets.
func groupsCommit(poll context.Context, g *eventlog.ConsumerGroup, moves []groupsMove) (err error) {
	ctx := context.Background()
	c, err := g.Join(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := c.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("leave the group: %w", cerr)
		}
	}()
	// Records this Poll returns are dropped, and not committed.
	if _, err := c.Poll(poll); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("take the partitions: %w", err)
	}
	offsets := make(map[eventlog.TopicPartition]int64, len(moves))
	for _, m := range moves {
		offsets[m.tp] = m.new
	}
	return c.CommitOffsets(ctx, offsets)
}

func groupsPrintMoves(w io.Writer, group string, moves []groupsMove, dryRun bool) error {
	notes := slices.ContainsFunc(moves, func(m groupsMove) bool { return m.note != "" })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "TOPIC\tPARTITION\tOLD\tNEW\tLOG-START\tLOG-END")
	if notes {
		fmt.Fprint(tw, "\tNOTE")
	}
	fmt.Fprintln(tw)
	for _, m := range moves {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%d",
			m.tp.Topic, m.tp.Partition, groupsOptional(m.old), m.new, m.logStart, m.logEnd)
		if notes {
			fmt.Fprintf(tw, "\t%s", m.note)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if dryRun {
		_, err := fmt.Fprintf(w, "dry run: group %s is unchanged\n", group)
		return err
	}
	return nil
}
