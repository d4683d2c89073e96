package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/eventlog/eventlog"
)

func newGroupsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "groups",
		Aliases: []string{"group"},
		Short:   "List, describe, reset and delete consumer groups",
		Long: `groups works on the consumer groups of the data directory: list them,
describe one (committed offset, log end and lag per partition), move its
committed offsets (to the earliest or latest record, to a time, or to an
offset), or delete it with all its committed offsets.

A group's members live inside the program that runs them and end with it;
what is stored is the group's committed offsets. Since eventlog holds the
directory while it runs, the groups it sees have no members.`,
		Example: `  eventlog groups list
  eventlog groups describe billing
  eventlog groups reset billing --topic orders --to-earliest
  eventlog groups reset billing --topic orders --to-time 2024-05-01T00:00:00Z --dry-run
  eventlog groups delete billing`,
		RunE: runParentCommand,
	}
	cmd.AddCommand(
		newGroupsListCmd(a),
		newGroupsDescribeCmd(a),
		newGroupsResetCmd(a),
		newGroupsDeleteCmd(a),
	)
	return cmd
}

func newGroupsListCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List consumer groups with their topics and total lag",
		Long: `list prints one line per consumer group that has committed offsets: its
name, the topics it has committed offsets on, and its total lag (records
appended to those topics' partitions after its committed offsets), sorted
by name.

With --json it prints a JSON array instead, one object per group.`,
		Example: `  eventlog groups list
  eventlog groups list --json | jq -r '.[].group'`,
		Args: argsBetween(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return groupsList(a, cmd.OutOrStdout(), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func newGroupsDescribeCmd(a *app) *cobra.Command {
	var (
		asJSON bool
		topics []string
	)
	cmd := &cobra.Command{
		Use:   "describe GROUP",
		Short: "Show a group's committed offset, log end and lag per partition",
		Long: `describe prints, for every partition of every topic the group has
committed offsets on, the committed offset (the next offset the group will
read), the partition's log-start and log-end offsets, and the lag: records
from the committed offset to the log end. A partition of such a topic that
the group has committed nothing for shows "-": the group will start it at
its StartAt (by default the earliest record).

--topic limits the output to the given topics, including topics the group
has not committed on yet. With --json it prints a JSON object instead.`,
		Example: `  eventlog groups describe billing
  eventlog groups describe billing --topic orders --json`,
		Args: argsBetween(1, 1, "one group name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return groupsDescribe(a, cmd.OutOrStdout(), args[0], topics, asJSON)
		},
	}
	cmd.Flags().StringSliceVarP(&topics, "topic", "t", nil, "only these topics (repeat or comma-separate)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func newGroupsDeleteCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "delete GROUP",
		Aliases: []string{"rm"},
		Short:   "Delete a consumer group and its committed offsets",
		Long: `delete removes a consumer group's committed offsets, durably. A program
that later uses a group of that name starts it afresh, at its StartAt.
Records are not touched.`,
		Example: `  eventlog groups delete billing`,
		Args:    argsBetween(1, 1, "one group name"),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			l, err := a.open(false)
			if err != nil {
				return err
			}
			defer closeLog(l, &err)
			if err := l.DeleteGroup(args[0]); err != nil {
				return classifyArgError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted group %s\n", args[0])
			return nil
		},
	}
}

// groupsPartition is one partition's progress in a group, as describe
// prints it; it is also its JSON output.
type groupsPartition struct {
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Committed *int64 `json:"committed"` // nil: nothing committed
	LogStart  int64  `json:"log_start_offset"`
	LogEnd    int64  `json:"log_end_offset"`
	Lag       *int64 `json:"lag"` // nil with Committed
}

// groupsInfo is one group as list and describe print it.
type groupsInfo struct {
	Group      string            `json:"group"`
	Topics     []string          `json:"topics"`
	Lag        int64             `json:"lag"` // over the partitions with a committed offset
	Partitions []groupsPartition `json:"partitions,omitempty"`
}

// groupsCollect describes group over the given topics (all user topics if
// none are given): the partitions of every topic it has committed offsets
// on, or of every topic given. The group must exist.
func groupsCollect(l *eventlog.Log, group string, only []string) (groupsInfo, error) {
	info := groupsInfo{Group: group, Topics: []string{}}
	if !slices.Contains(l.Groups(), group) {
		return info, fmt.Errorf("group %q: %w", group, eventlog.ErrUnknownGroup)
	}
	topics := l.Topics()
	if len(only) > 0 {
		for _, t := range only {
			if _, err := l.Topic(t); err != nil {
				return info, classifyArgError(err)
			}
		}
		topics = slices.Compact(slices.Sorted(slices.Values(only)))
	}
	if len(topics) == 0 {
		return info, nil // a group over topics since deleted
	}
	// The stored offsets do not say which topics a group reads, so look at
	// the group over all of them; this process owns the directory, so the
	// group has no members whose view this could disturb.
	g, err := l.ConsumerGroup(group, &eventlog.GroupOptions{Topics: topics})
	if err != nil {
		return info, classifyArgError(err)
	}
	lags, err := g.Lag()
	if err != nil {
		return info, err
	}
	committedOn := make(map[string]bool)
	for _, pl := range lags {
		if pl.Committed >= 0 {
			committedOn[pl.Topic] = true
		}
	}
	for _, pl := range lags {
		if !committedOn[pl.Topic] && len(only) == 0 {
			continue
		}
		if !slices.Contains(info.Topics, pl.Topic) {
			info.Topics = append(info.Topics, pl.Topic)
		}
		t, err := l.Topic(pl.Topic)
		if err != nil {
			return info, err
		}
		p, err := t.Partition(pl.Partition)
		if err != nil {
			return info, err
		}
		gp := groupsPartition{Topic: pl.Topic, Partition: pl.Partition, LogStart: p.FirstOffset(), LogEnd: pl.End}
		if pl.Committed >= 0 {
			committed, lag := pl.Committed, pl.Lag
			gp.Committed, gp.Lag = &committed, &lag
			info.Lag += lag
		}
		info.Partitions = append(info.Partitions, gp)
	}
	return info, nil
}

func groupsList(a *app, w io.Writer, asJSON bool) (err error) {
	l, err := a.open(false)
	if err != nil {
		return err
	}
	defer closeLog(l, &err)

	infos := []groupsInfo{}
	for _, name := range l.Groups() {
		info, err := groupsCollect(l, name, nil)
		if err != nil {
			return err
		}
		info.Partitions = nil
		infos = append(infos, info)
	}
	if asJSON {
		return writeJSON(w, infos)
	}
	if len(infos) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tTOPICS\tLAG")
	for _, g := range infos {
		topics := "-"
		if len(g.Topics) > 0 {
			topics = strings.Join(g.Topics, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\n", g.Group, topics, g.Lag)
	}
	return tw.Flush()
}

func groupsDescribe(a *app, w io.Writer, group string, topics []string, asJSON bool) (err error) {
	l, err := a.open(false)
	if err != nil {
		return err
	}
	defer closeLog(l, &err)

	info, err := groupsCollect(l, group, topics)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(w, info)
	}
	if len(info.Partitions) == 0 {
		fmt.Fprintf(w, "group %s has no committed offsets on existing topics\n", group)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tCOMMITTED\tLOG-START\tLOG-END\tLAG")
	for _, p := range info.Partitions {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%s\n",
			p.Topic, p.Partition, groupsOptional(p.Committed), p.LogStart, p.LogEnd, groupsOptional(p.Lag))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "total lag %d\n", info.Lag)
	return err
}

// groupsOptional prints an optional number, "-" if it is absent.
func groupsOptional(n *int64) string {
	if n == nil {
		return "-"
	}
	return strconv.FormatInt(*n, 10)
}
