package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventlog/eventlog"
)

func newTopicsDescribeCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a topic's configuration and its partitions",
		Long: `describe prints a topic's configuration (partition count, retention) and,
for each partition:

  LOG-START    the first offset still stored (retention moves it up)
  NEXT-OFFSET  the offset the next record will get (the high watermark)
  SEGMENTS     the number of segment files holding its records
  SIZE         their size on disk

NEXT-OFFSET minus LOG-START is the number of records a partition holds.
With --json it prints one JSON object instead, sizes in bytes and
retention in milliseconds, for scripts.`,
		Example: `  eventlog topics describe orders
  eventlog topics describe orders --json | jq '.partition_details[].next_offset'`,
		Args: argsBetween(1, 1, "one argument, the topic name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return topicsDescribe(a, cmd.OutOrStdout(), args[0], asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func topicsDescribe(a *app, w io.Writer, name string, asJSON bool) (err error) {
	l, err := a.open(false)
	if err != nil {
		return err
	}
	defer closeLog(l, &err)

	infos, err := topicsCollect(l, []string{name}, true)
	if errors.Is(err, eventlog.ErrUnknownTopic) {
		return fmt.Errorf("describe topic: %w", err)
	}
	if err != nil {
		return err
	}
	t := infos[0]
	if asJSON {
		return writeJSON(w, t)
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	retentionBytes := "unlimited"
	if t.RetentionBytes > 0 {
		retentionBytes = formatBytes(t.RetentionBytes) + " per partition"
	}
	fmt.Fprintf(tw, "Topic:\t%s\n", t.Name)
	fmt.Fprintf(tw, "Partitions:\t%d\n", t.Partitions)
	fmt.Fprintf(tw, "Retention:\t%s\n", formatDuration(time.Duration(t.RetentionMs)*time.Millisecond))
	fmt.Fprintf(tw, "Retention bytes:\t%s\n", retentionBytes)
	fmt.Fprintf(tw, "Size:\t%s\n", formatBytes(t.SizeBytes))
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "PARTITION\tLOG-START\tNEXT-OFFSET\tSEGMENTS\tSIZE\t")
	for _, p := range t.Details {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%s\t\n", p.Partition, p.LogStartOffset, p.NextOffset, p.Segments, formatBytes(p.SizeBytes))
	}
	return tw.Flush()
}
