package eventlog_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"go.uber.org/goleak"

	"github.com/eventlog/eventlog"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// kinds runs f once against an in-memory Log and once against files.
func kinds(t *testing.T, f func(t *testing.T, open func(t *testing.T) *eventlog.Log)) {
	t.Run("mem", func(t *testing.T) {
		f(t, func(t *testing.T) *eventlog.Log { return openMem(t) })
	})
	t.Run("dir", func(t *testing.T) {
		dir := t.TempDir()
		f(t, func(t *testing.T) *eventlog.Log { return openDir(t, dir, nil) })
	})
}

func openMem(t testing.TB) *eventlog.Log {
	t.Helper()
	l, err := eventlog.Open("", &eventlog.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func openDir(t testing.TB, dir string, opts *eventlog.Options) *eventlog.Log {
	t.Helper()
	l, err := eventlog.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func createTopic(t testing.TB, l *eventlog.Log, name string, cfg eventlog.TopicConfig) *eventlog.Topic {
	t.Helper()
	top, err := l.CreateTopic(name, cfg)
	if err != nil {
		t.Fatalf("CreateTopic(%q): %v", name, err)
	}
	return top
}

func newProducer(t testing.TB, l *eventlog.Log, opts *eventlog.ProducerOptions) *eventlog.Producer {
	t.Helper()
	p, err := l.NewProducer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func partition(t testing.TB, l *eventlog.Log, topic string, i int) *eventlog.Partition {
	t.Helper()
	top, err := l.Topic(topic)
	if err != nil {
		t.Fatal(err)
	}
	p, err := top.Partition(i)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll returns every record of a partition from offset from.
func readAll(t testing.TB, p *eventlog.Partition, from int64) []eventlog.Record {
	t.Helper()
	var recs []eventlog.Record
	for rec, err := range p.Read(t.Context(), from) {
		if err != nil {
			t.Fatalf("Read(%d) after %d records: %v", from, len(recs), err)
		}
		recs = append(recs, rec)
	}
	return recs
}

func offsets(recs []eventlog.Record) []int64 {
	var offs []int64
	for _, r := range recs {
		offs = append(offs, r.Offset)
	}
	return offs
}

func seq(from, to int64) []int64 {
	var s []int64
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// produceN produces n records with values "v<i>" to a topic with one
// partition, creating the topic if needed.
func produceN(t testing.TB, l *eventlog.Log, topic string, n int) {
	t.Helper()
	if !slices.Contains(l.Topics(), topic) {
		createTopic(t, l, topic, eventlog.TopicConfig{})
	}
	p := newProducer(t, l, nil)
	for i := range n {
		if _, err := p.Produce(t.Context(), eventlog.Record{Topic: topic, Value: []byte("v" + itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// segmentFiles lists a partition's tidwall/wal segment files, oldest first.
func segmentFiles(t testing.TB, dir, topic string, part int) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "topics", topic, itoa(part), "[0-9]*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no segment files for %s/%d in %s: %v", topic, part, dir, err)
	}
	slices.Sort(files)
	return files
}

func fileSize(t testing.TB, name string) int64 {
	t.Helper()
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
