package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/spf13/cobra"

	"github.com/eventlog/eventlog"
)

// produceMaxRecord bounds one input record. It is the default
// Options.MaxRecordSize, which the Log opened by app.open has; the Log
// checks the exact encoded size (key, value and headers) itself.
const produceMaxRecord = 1 << 20

// produceOptions are the produce command's flags.
type produceOptions struct {
	keyDelim  string // -k: used if keySet
	keySet    bool
	delim     string   // -D: as typed, with escapes
	headers   []string // -H: key=value
	partition int      // -p: used if partSet
	partSet   bool
	nullEmpty bool // -Z
	verbose   bool // -v
}

func newProduceCmd(a *app) *cobra.Command {
	var o produceOptions
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Append records read from stdin to a topic",
		Long: `produce reads records from stdin, one per line, and appends them to TOPIC,
as kcat -P does. The topic must exist (see "eventlog topics create").

With -k DELIM, the text before the first DELIM on a line is the record's
key and the text after it the value; a line without DELIM has no key. Keyed
records go to the partition Kafka's default partitioner would choose, so
records with the same key stay in order in one partition; records without
a key are spread over the partitions in batches. -p sends every record to
one partition instead. -H adds a header to every record.

Empty lines are skipped, and a newline at the end of the input does not
make an empty record. -D changes the record delimiter from a newline;
delimiters take the escapes \n \r \t \0 \\ and \xHH. A record may be up to
1 MiB.

produce exits 0 once every record is durable on disk. It prints nothing
unless -v is given. On the first record that fails it stops reading, and
reports which record failed and how many were produced.`,
		Example: `  # one record per line, no keys
  printf 'created\npaid\n' | eventlog produce orders

  # key and value separated by ':', with a header on every record
  printf 'order-7:created\norder-7:paid\n' | eventlog produce orders -k : -H source=cli

  # a file of NUL-separated records, all to partition 2
  find . -print0 | eventlog produce files -D '\0' -p 2`,
		Args: argsBetween(1, 1, "one argument, the topic name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.partSet = cmd.Flags().Changed("partition")
			o.keySet = cmd.Flags().Changed("key-delimiter")
			if !cmd.Flags().Changed("delimiter") {
				o.delim = `\n`
			}
			return produceRun(cmd.Context(), a, args[0], o, cmd.InOrStdin(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.keyDelim, "key-delimiter", "k", "", "split each record into key and value at the first `DELIM`")
	f.StringArrayVarP(&o.headers, "header", "H", nil, "add header `key=value` to every record (repeatable)")
	f.IntVarP(&o.partition, "partition", "p", 0, "send every record to partition `N`")
	f.StringVarP(&o.delim, "delimiter", "D", "", "split records at `DELIM` instead of newlines")
	f.BoolVarP(&o.nullEmpty, "null", "Z", false, "with -k, store an empty key or value as null (an empty value is a tombstone)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print a summary to stderr")
	return cmd
}

// produceRun appends the records of in to topic.
func produceRun(ctx context.Context, a *app, topic string, o produceOptions, in io.Reader, stderr io.Writer) (err error) {
	delim, err := produceUnescape(o.delim)
	if err != nil || len(delim) == 0 {
		return usageError("-D %q: %v", o.delim, produceOr(err, "the delimiter is empty"))
	}
	var keyDelim []byte
	if o.keySet {
		keyDelim, err = produceUnescape(o.keyDelim)
		if err != nil || len(keyDelim) == 0 {
			return usageError("-k %q: %v", o.keyDelim, produceOr(err, "the delimiter is empty"))
		}
	}
	headers, err := produceParseHeaders(o.headers)
	if err != nil {
		return err
	}
	unit := "record"
	if bytes.Equal(delim, []byte{'\n'}) {
		unit = "line"
	}

	l, err := a.open(false)
	if err != nil {
		return err
	}
	defer closeLog(l, &err)

	t, err := l.Topic(topic)
	switch {
	case errors.Is(err, eventlog.ErrUnknownTopic):
		return fmt.Errorf("produce to %q (create it with \"eventlog topics create %s\"): %w", topic, topic, eventlog.ErrUnknownTopic)
	case err != nil:
		return err
	case !slices.Contains(l.Topics(), topic):
		return usageError("produce to %q: internal topics are written by the library only", topic)
	}
	popts := &eventlog.ProducerOptions{}
	if o.partSet {
		if o.partition < 0 || o.partition >= t.Partitions() {
			return usageError("-p %d: topic %s has partitions 0 to %d", o.partition, topic, t.Partitions()-1)
		}
		popts.Partitioner = eventlog.ManualPartitioner()
	}
	p, err := l.NewProducer(popts)
	if err != nil {
		return err
	}
	s := &produceSession{topic: topic, unit: unit}
	s.feed(p, newProduceReader(in, delim, produceMaxRecord), func(data []byte) eventlog.Record {
		rec := produceSplit(data, keyDelim, o.nullEmpty)
		rec.Topic, rec.Partition, rec.Headers = topic, o.partition, headers
		return rec
	})
	// Flush even after a failure: records handed over before it are
	// written, and the summary counts them.
	flushErr := errors.Join(p.Flush(ctx), p.Close())
	if err := s.result(); err != nil {
		return err
	}
	if flushErr != nil {
		return fmt.Errorf("produce to %s: %w", topic, flushErr)
	}
	if o.verbose {
		fmt.Fprintf(stderr, "produced %d record(s) to %s\n", s.produced.Load(), topic)
	}
	return nil
}

// produceOr returns err's message, or def if err is nil.
func produceOr(err error, def string) string {
	if err != nil {
		return err.Error()
	}
	return def
}

// produceSplit makes a record of data, which it copies: the record outlives
// the reader's buffer. With keyDelim, the bytes before its first
// occurrence are the key; with nullEmpty an empty key or value is nil.
func produceSplit(data, keyDelim []byte, nullEmpty bool) eventlog.Record {
	data = bytes.Clone(data)
	if keyDelim == nil {
		return eventlog.Record{Value: data}
	}
	k, v, ok := bytes.Cut(data, keyDelim)
	if !ok {
		return eventlog.Record{Value: data}
	}
	if nullEmpty && len(k) == 0 {
		k = nil
	}
	if nullEmpty && len(v) == 0 {
		v = nil
	} else if v == nil {
		v = []byte{} // Cut returns nil for nothing after the delimiter
	}
	return eventlog.Record{Key: k, Value: v}
}

// produceSession tracks the outcome of the records of one produce run,
// whose callbacks run on the Producer's goroutines.
type produceSession struct {
	topic    string
	unit     string // "line" or "record", for messages
	produced atomic.Int64

	mu      sync.Mutex
	failed  error // the error of the earliest failed record, if any
	failedN int   // its number in the input, counting from 1
}

// feed reads records from r and hands them to p without waiting for each,
// until the input ends or a record fails, whether it could not be read or
// p refused it.
func (s *produceSession) feed(p *eventlog.Producer, r *produceReader, mk func([]byte) eventlog.Record) {
	for n := 1; ; n++ {
		data, err := r.next()
		switch {
		case err == io.EOF:
			return
		case errors.Is(err, eventlog.ErrRecordTooLarge):
			s.fail(n, err)
			return
		case err != nil:
			s.fail(n, fmt.Errorf("read stdin: %w", err))
			return
		case len(data) == 0:
			continue // as kcat does
		case s.hasFailed():
			return
		}
		p.ProduceAsync(mk(data), func(_ eventlog.Record, err error) {
			if err != nil {
				s.fail(n, err)
				return
			}
			s.produced.Add(1)
		})
	}
}

// fail records that record n failed with err, keeping the earliest
// failure.
func (s *produceSession) fail(n int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed == nil || n < s.failedN {
		s.failed, s.failedN = err, n
	}
}

func (s *produceSession) hasFailed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed != nil
}

// result returns the error that ended the run, if any. Call it once
// every record has been answered (after Producer.Flush).
func (s *produceSession) result() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed == nil {
		return nil
	}
	return fmt.Errorf("produce to %s: %d record(s) produced; %s %d failed: %w", s.topic, s.produced.Load(), s.unit, s.failedN, s.failed)
}
