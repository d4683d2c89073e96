package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/eventlog/eventlog"
)

// consumeOptions are the consume command's flags.
type consumeOptions struct {
	offset    string // -o, as typed
	partition int    // -p; used if partSet
	partSet   bool
	exitAtEnd bool   // -e
	count     int64  // -c; 0: no limit
	format    string // -f; used if formatSet
	formatSet bool
	json      bool   // --json
	group     string // -G
}

func newConsumeCmd(a *app) *cobra.Command {
	var o consumeOptions
	cmd := &cobra.Command{
		Use:   "consume TOPIC",
		Short: "Print the records of a topic, like kcat -C",
		Long: `consume prints the records of TOPIC to stdout, as kcat -C does: by default
each record's value followed by a newline.

It reads every partition (or only the one -p names) from where -o says:
  beginning   the oldest record still held (the default)
  end         after the newest record: only records appended from now on
  N           offset N, in every partition read; an offset a partition
              does not hold is an error
  -N          the last N records of each partition (fewer if it holds fewer)
  @T          the first record whose time is T or later, T in Unix
              milliseconds (kcat's s@T works too) or RFC 3339
              (@2024-05-01T12:00:00Z)
The records already there come merged across partitions in time order;
the records of one partition always come in offset order.

With -e consume exits once it has printed the last record; otherwise it
keeps waiting for new records until Ctrl-C or SIGTERM, and then exits 0.
-c N exits after N records. While it runs, consume holds the data
directory, like every program that opens it.

-f prints each record by a format string with kcat's tokens:
  %t topic   %p partition   %o offset   %T timestamp (Unix ms)
  %k key     %s value       %K key length   %S value length (-1: null)
  %h headers as key=value,key=value       %% a percent sign
and the escapes \n \r \t \0 \\ \xHH. Nothing is added between records, so
end the format with \n for one record per line.

--json prints one JSON object per line: {"topic", "partition", "offset",
"timestamp" (Unix ms), "time" (RFC 3339), "headers": [{"key", "value"}],
"key", "value"}. Keys and values that are valid UTF-8 are JSON strings;
others are base64, marked by "key_encoding": "base64" (likewise
"value_encoding", and in headers). A null key or value is null, an empty
one "".

-G GROUP reads as a member of consumer group GROUP and commits each record
once it is written, so the next run with -G GROUP continues after the last
record printed, and "eventlog groups describe" shows the progress. The
group's committed offsets decide where each partition starts; -o beginning
or -o end says where to start a partition it has none for. With -e it exits
once the group has read everything.

If stdout is closed (consume -e orders | head), consume exits 0 quietly.`,
		Example: `  # every value of a topic, then exit
  eventlog consume orders -e

  # offset, key and value of the last 10 records of partition 2
  eventlog consume orders -p 2 -o -10 -e -f '%o %k: %s\n'

  # records written since a moment, as JSON lines for jq
  eventlog consume orders -o @2024-05-01T12:00:00Z -e --json | jq .value

  # take 100 records as consumer group "billing"; run again for the next 100
  eventlog consume orders -G billing -c 100 -e

  # the first lines only: consume stops when head does
  eventlog consume orders -e | head -n 3`,
		Args: argsBetween(1, 1, "one argument, the topic name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			o.partSet = f.Changed("partition")
			o.formatSet = f.Changed("format")
			if f.Changed("count") && o.count < 1 {
				return usageError("-c %d: the count must be at least 1", o.count)
			}
			return consumeRun(cmd.Context(), a, args[0], o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.offset, "offset", "o", "beginning", "where to start: `beginning|end|N|-N|@T`")
	f.IntVarP(&o.partition, "partition", "p", 0, "read only partition `N`")
	f.BoolVarP(&o.exitAtEnd, "exit", "e", false, "exit after the last record instead of waiting for more")
	f.Int64VarP(&o.count, "count", "c", 0, "exit after `N` records")
	f.StringVarP(&o.format, "format", "f", "", "print each record by `FORMAT` (kcat's %t %p %o %k %s %T %h %K %S)")
	f.BoolVarP(&o.json, "json", "J", false, "print each record as a line of JSON")
	f.StringVarP(&o.group, "group", "G", "", "consume as a member of consumer group `GROUP`, committing what is printed")
	return cmd
}

// consumeRun checks the options, opens the log and prints the records of
// topic to stdout.
func consumeRun(ctx context.Context, a *app, topic string, o consumeOptions, stdout io.Writer) (err error) {
	from, err := consumeParseOffset(o.offset)
	if err != nil {
		return err
	}
	format, err := consumeFormatOf(o)
	if err != nil {
		return err
	}
	var startAt eventlog.StartAt
	if o.group != "" {
		switch {
		case o.partSet:
			return usageError("-p cannot be used with -G: the group decides which partitions its members read")
		case from.from == consumeEnd:
			startAt = eventlog.Latest
		case from.from != consumeBeginning:
			return usageError("-o %s cannot be used with -G: the group's committed offsets say where to start; -o beginning or end only says where a partition without one starts (move a group with \"eventlog groups reset\")", o.offset)
		}
	}

	l, err := a.open(false)
	if err != nil {
		return err
	}
	defer closeLog(l, &err)
	t, err := l.Topic(topic)
	if errors.Is(err, eventlog.ErrUnknownTopic) {
		return fmt.Errorf("consume %q (see \"eventlog topics list\"): %w", topic, err)
	}
	if err != nil {
		return err
	}

	// Ctrl-C and SIGTERM end following (and -G) with exit 0. A closed stdout
	// must fail the write rather than kill the process, so that consume
	// can leave its group and close the log.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	signal.Ignore(syscall.SIGPIPE)

	out := newConsumeOut(stdout, format, o.count)
	if o.group != "" {
		err = consumeGroup(ctx, l, o.group, topic, startAt, o.exitAtEnd, out)
	} else {
		var spans []consumeSpan
		if spans, err = consumeSpans(t, o, from); err != nil {
			return err
		}
		err = consumeRead(ctx, spans, !o.exitAtEnd, out)
	}
	// -c reached and Ctrl-C are the two ordinary ends; a closed stdout
	// ends consume quietly.
	if errors.Is(err, errConsumeLimit) || (ctx.Err() != nil && errors.Is(err, context.Canceled)) {
		err = nil
	}
	if err == nil {
		err = out.flush()
	}
	if errors.Is(err, errConsumeClosed) {
		return nil
	}
	return err
}

// consumeFormatOf returns the formatter -f or --json choose, or the
// default: the value and a newline.
func consumeFormatOf(o consumeOptions) (consumeFormatter, error) {
	switch {
	case o.json && o.formatSet:
		return nil, usageError("-f and --json cannot be used together")
	case o.json:
		return newConsumeJSON(), nil
	case o.formatSet:
		return consumeParseFormat(o.format)
	}
	return consumeValueLine, nil
}

// consumeSpans returns the partitions to read, with where to start each.
func consumeSpans(t *eventlog.Topic, o consumeOptions, from consumeOffset) ([]consumeSpan, error) {
	ids := make([]int, 0, t.Partitions())
	if o.partSet {
		if o.partition < 0 || o.partition >= t.Partitions() {
			return nil, usageError("-p %d: topic %s has partitions 0 to %d", o.partition, t.Name(), t.Partitions()-1)
		}
		ids = append(ids, o.partition)
	} else {
		for i := range t.Partitions() {
			ids = append(ids, i)
		}
	}
	spans := make([]consumeSpan, 0, len(ids))
	for _, id := range ids {
		p, err := t.Partition(id)
		if err != nil {
			return nil, err
		}
		end := p.NextOffset()
		start, err := from.resolve(p)
		if err != nil {
			return nil, err
		}
		spans = append(spans, consumeSpan{p: p, start: start, end: end})
	}
	return spans, nil
}
