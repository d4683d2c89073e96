package eventlog_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/eventlog/eventlog"
)

// A Log whose MaxResidentBytes holds only a few of its 50 partitions' tail
// segments releases and reopens them all the time; producing round-robin,
// reading everything back, reopening the Log and producing more must all
// work as without a budget.
func TestSmallMaxResidentBytes(t *testing.T) {
	const (
		parts  = 50
		rounds = 60
	)
	dir := t.TempDir()
	opts := &eventlog.Options{
		SegmentSize:      4 << 10,
		MaxResidentBytes: 16 << 10, // about four tails of 50
		Sync:             eventlog.SyncNever,
	}
	value := func(part, i int) []byte { return fmt.Appendf(nil, "p%d-r%d-%0100d", part, i, i) }
	produce := func(l *eventlog.Log, from, to int) {
		t.Helper()
		p := newProducer(t, l, &eventlog.ProducerOptions{Partitioner: eventlog.ManualPartitioner()})
		for i := from; i < to; i++ {
			for part := range parts {
				rec, err := p.Produce(t.Context(), eventlog.Record{Topic: "t", Partition: part, Value: value(part, i)})
				if err != nil {
					t.Fatalf("Produce(partition %d, record %d) = %v", part, i, err)
				}
				if rec.Offset != int64(i) {
					t.Fatalf("Produce(partition %d, record %d) at offset %d; want %d", part, i, rec.Offset, i)
				}
			}
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	check := func(l *eventlog.Log, n int) {
		t.Helper()
		for part := range parts {
			p := partition(t, l, "t", part)
			recs := readAll(t, p, 0)
			if len(recs) != n {
				t.Fatalf("partition %d holds %d records; want %d", part, len(recs), n)
			}
			for i, r := range recs {
				if r.Offset != int64(i) || string(r.Value) != string(value(part, i)) {
					t.Fatalf("partition %d record %d = offset %d %q; want offset %d %q", part, i, r.Offset, r.Value, i, value(part, i))
				}
			}
			// OffsetForTime needs the time index and, for a time inside the
			// log, an entry read.
			if off, err := p.OffsetForTime(recs[n/2].Time); err != nil || off > int64(n/2) {
				t.Fatalf("partition %d: OffsetForTime(time of %d) = %d, %v", part, n/2, off, err)
			}
			if off, err := p.OffsetForTime(time.Now().Add(time.Hour)); err != nil || off != int64(n) {
				t.Fatalf("partition %d: OffsetForTime(an hour ahead) = %d, %v; want %d", part, off, err, n)
			}
		}
	}

	l := openDir(t, dir, opts)
	createTopic(t, l, "t", eventlog.TopicConfig{Partitions: parts})
	produce(l, 0, rounds)
	check(l, rounds)
	if err := l.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}

	l = openDir(t, dir, opts)
	check(l, rounds)
	produce(l, rounds, 2*rounds) // offsets continue in every partition
	check(l, 2*rounds)
	if err := l.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
}

func TestNegativeMaxResidentBytesIsInvalid(t *testing.T) {
	l, err := eventlog.Open(t.TempDir(), &eventlog.Options{MaxResidentBytes: -1})
	if !errors.Is(err, eventlog.ErrInvalidConfig) {
		if l != nil {
			l.Close()
		}
		t.Fatalf("Open with MaxResidentBytes -1 = %v; want ErrInvalidConfig", err)
	}
}
