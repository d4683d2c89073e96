package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventlog/eventlog"
)

func newTopicsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "topics",
		Aliases: []string{"topic"},
		Short:   "List, create, describe and delete topics",
		Long: `topics works on the topics of the data directory: list them, create one
with its partition count and retention, describe one partition by
partition, or delete one with all its records.`,
		Example: `  eventlog topics create orders --partitions 4 --retention 7d
  eventlog topics list
  eventlog topics describe orders
  eventlog topics delete orders`,
		RunE: runParentCommand,

		SuggestionsMinimumDistance: 2, // "lst" suggests "list"
	}
	cmd.AddCommand(
		newTopicsListCmd(a),
		newTopicsCreateCmd(a),
		newTopicsDescribeCmd(a),
		newTopicsDeleteCmd(a),
	)
	return cmd
}

func newTopicsListCmd(a *app) *cobra.Command {
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List topics with their partition counts and sizes",
		Long: `list prints one line per topic: its name, partition count and size on
disk, sorted by name. Internal topics, whose names start with "__" (such as
__consumer_offsets, which holds consumer groups' offsets), are shown only
with --all.

With --json it prints a JSON array instead, one object per topic with its
configuration and size, for scripts.`,
		Example: `  eventlog topics list
  eventlog topics list --all --json | jq -r '.[].name'`,
		Args: argsBetween(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return topicsList(a, cmd.OutOrStdout(), all, asJSON)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, `include internal topics ("__" names)`)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

// topicsInfo describes a topic for list and describe; it is also their
// JSON output.
type topicsInfo struct {
	Name           string `json:"name"`
	Partitions     int    `json:"partitions"`
	RetentionMs    int64  `json:"retention_ms"`    // 0: forever
	RetentionBytes int64  `json:"retention_bytes"` // per partition; 0: no limit
	SizeBytes      int64  `json:"size_bytes"`      // of every segment of every partition

	// Details holds one entry per partition; only describe fills it in.
	Details []topicsPartitionInfo `json:"partition_details,omitempty"`
}

// topicsPartitionInfo describes one partition.
type topicsPartitionInfo struct {
	Partition      int   `json:"partition"`
	LogStartOffset int64 `json:"log_start_offset"` // Partition.FirstOffset
	NextOffset     int64 `json:"next_offset"`      // Partition.NextOffset
	Segments       int   `json:"segments"`
	SizeBytes      int64 `json:"size_bytes"`
}

// topicsCollect describes the named topics from one Stats snapshot,
// with per-partition details if details is set.
func topicsCollect(l *eventlog.Log, names []string, details bool) ([]topicsInfo, error) {
	stats := l.Stats()
	infos := make([]topicsInfo, 0, len(names))
	for _, name := range names {
		t, err := l.Topic(name)
		if err != nil {
			return nil, err
		}
		cfg := t.Config()
		info := topicsInfo{
			Name:           name,
			Partitions:     t.Partitions(),
			RetentionMs:    topicsMillis(cfg.Retention),
			RetentionBytes: cfg.RetentionBytes,
		}
		for _, ps := range stats.Partitions {
			if ps.Topic != name {
				continue
			}
			info.SizeBytes += ps.SegmentBytes
			if details {
				info.Details = append(info.Details, topicsPartitionInfo{
					Partition:      ps.Partition,
					LogStartOffset: ps.FirstOffset,
					NextOffset:     ps.NextOffset,
					Segments:       ps.Segments,
					SizeBytes:      ps.SegmentBytes,
				})
			}
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// topicsMillis is d in whole milliseconds, rounded up so that a retention
// under a millisecond does not read as 0, "forever".
func topicsMillis(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

func topicsList(a *app, w io.Writer, all, asJSON bool) (err error) {
	l, err := a.open(false)
	if err != nil {
		return err
	}
	defer closeLog(l, &err)

	names := l.Topics()
	if all {
		// Log.Topics leaves internal topics out; Stats has them all.
		for _, ps := range l.Stats().Partitions {
			if !slices.Contains(names, ps.Topic) {
				names = append(names, ps.Topic)
			}
		}
		slices.Sort(names)
	}
	infos, err := topicsCollect(l, names, false)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(w, infos)
	}
	if len(infos) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tPARTITIONS\tSIZE")
	for _, t := range infos {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", t.Name, t.Partitions, formatBytes(t.SizeBytes))
	}
	return tw.Flush()
}

// writeJSON writes v as indented JSON and a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
