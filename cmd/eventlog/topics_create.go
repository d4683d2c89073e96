package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventlog/eventlog"
)

func newTopicsCreateCmd(a *app) *cobra.Command {
	var (
		partitions     int
		retention      topicsDuration
		retentionBytes topicsBytes
		ifNotExists    bool
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a topic",
		Long: `create makes a topic with the given number of partitions (1 unless told)
and retention. It creates the data directory if it does not exist yet.

A name is 1 to 249 characters of letters, digits, '.', '_' and '-', as in
Kafka; names starting with "__" are kept for internal topics. The partition
count cannot be changed later.

Retention is how long records are kept (such as 7d, 36h or 90m; 0 keeps
them forever) and --retention-bytes bounds each partition's size on disk
(such as 500MB or 1GiB; 0 means no bound). Both delete whole segment files
from the front of a partition, never the one holding its newest record, so
a partition may hold somewhat more, or older records, than they say.`,
		Example: `  eventlog topics create orders --partitions 4
  eventlog topics create audit --retention 30d --retention-bytes 1GiB
  EVENTLOG_DIR=/var/lib/app/log eventlog topics create clicks -p 8 --if-not-exists`,
		Args: argsBetween(1, 1, "one argument, the topic name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if partitions < 1 {
				return usageError("--partitions %d: a topic needs at least 1", partitions)
			}
			cfg := eventlog.TopicConfig{
				Partitions:     partitions,
				Retention:      time.Duration(retention),
				RetentionBytes: int64(retentionBytes),
			}
			return topicsCreate(a, cmd.OutOrStdout(), args[0], cfg, ifNotExists)
		},
	}
	f := cmd.Flags()
	f.IntVarP(&partitions, "partitions", "p", 1, "number of partitions")
	f.Var(&retention, "retention", "how long records are kept, such as 7d or 36h (0: forever)")
	f.Var(&retentionBytes, "retention-bytes", "bytes kept per partition, such as 1GiB (0: no limit)")
	f.BoolVar(&ifNotExists, "if-not-exists", false, "succeed without change if the topic exists")
	return cmd
}

// topicsCreate creates the topic name with cfg.
func topicsCreate(a *app, w io.Writer, name string, cfg eventlog.TopicConfig, ifNotExists bool) (err error) {
	// Refuse a bad name or configuration before the data directory is
	// created or locked: bad input changes nothing.
	if err := topicsValidate(name, cfg); err != nil {
		return classifyArgError(fmt.Errorf("create topic: %w", err))
	}
	l, err := a.open(true)
	if err != nil {
		return err
	}
	defer closeLog(l, &err)

	t, err := l.CreateTopic(name, cfg)
	switch {
	case errors.Is(err, eventlog.ErrTopicExists) && ifNotExists:
		return nil
	case err != nil:
		return classifyArgError(fmt.Errorf("create topic: %w", err))
	}
	cfg = t.Config()
	fmt.Fprintf(w, "Created topic %s: %d partition(s), retention %s", name, cfg.Partitions, formatDuration(cfg.Retention))
	if cfg.RetentionBytes > 0 {
		fmt.Fprintf(w, " or %s per partition", formatBytes(cfg.RetentionBytes))
	}
	fmt.Fprintln(w, ".")
	return nil
}

// topicsValidate checks name and cfg with the library's own rules, by
// creating the topic in a throwaway in-memory Log.
func topicsValidate(name string, cfg eventlog.TopicConfig) error {
	l, err := eventlog.Open("", &eventlog.Options{InMemory: true})
	if err != nil {
		return err
	}
	_, err = l.CreateTopic(name, cfg)
	return errors.Join(err, l.Close())
}

func newTopicsDeleteCmd(a *app) *cobra.Command {
	var ifExists bool
	cmd := &cobra.Command{
		Use:     "delete NAME...",
		Aliases: []string{"rm"},
		Short:   "Delete topics and all their records",
		Long: `delete removes each named topic with all its records, at once and for
good: there is no confirmation and no undo.

Topics are deleted in the order given; the first that fails stops the
command, leaving those before it deleted.`,
		Example: `  eventlog topics delete orders
  eventlog topics delete scratch-1 scratch-2 --if-exists`,
		Args: argsBetween(1, -1, "one or more topic names"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return topicsDelete(a, cmd.OutOrStdout(), args, ifExists)
		},
	}
	cmd.Flags().BoolVar(&ifExists, "if-exists", false, "succeed without change for topics that do not exist")
	return cmd
}

// topicsDelete deletes the named topics in order.
func topicsDelete(a *app, w io.Writer, names []string, ifExists bool) (err error) {
	l, err := a.open(false)
	if err != nil {
		return err
	}
	defer closeLog(l, &err)

	for _, name := range names {
		err := l.DeleteTopic(name)
		switch {
		case errors.Is(err, eventlog.ErrUnknownTopic) && ifExists:
			continue
		case err != nil:
			return classifyArgError(fmt.Errorf("delete topic: %w", err))
		}
		fmt.Fprintf(w, "Deleted topic %s.\n", name)
	}
	return nil
}
