package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/eventlog/eventlog"
)

// verifyTestBase is the time of the first record verifyFill writes.
var verifyTestBase = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// verifyFill writes n records to each partition of a new topic in the log
// at dir (created if needed, with segment files of segSize bytes, 0 for
// the default), one Produce per record so that each record is an entry of
// its own. Record i of partition p has key "k<i>", value "p<p>-v<i>", a
// header "i"="<i>" and time verifyTestBase + i seconds. The log is closed
// when it returns.
func verifyFill(t *testing.T, dir string, segSize int64, topic string, partitions, n int) {
	t.Helper()
	l, err := eventlog.Open(dir, &eventlog.Options{SegmentSize: segSize, Sync: eventlog.SyncNever})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() {
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}()
	if _, err := l.CreateTopic(topic, eventlog.TopicConfig{Partitions: partitions}); err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	p, err := l.NewProducer(&eventlog.ProducerOptions{Partitioner: eventlog.ManualPartitioner()})
	if err != nil {
		t.Fatalf("NewProducer: %v", err)
	}
	defer p.Close()
	ctx := context.Background()
	for part := range partitions {
		for i := range n {
			_, err := p.Produce(ctx, eventlog.Record{
				Topic: topic, Partition: part,
				Key:     fmt.Appendf(nil, "k%d", i),
				Value:   fmt.Appendf(nil, "p%d-v%d", part, i),
				Headers: []eventlog.Header{{Key: "i", Value: fmt.Appendf(nil, "%d", i)}},
				Time:    verifyTestBase.Add(time.Duration(i) * time.Second),
			})
			if err != nil {
				t.Fatalf("Produce: %v", err)
			}
		}
	}
}

// verifySegmentFiles returns the segment files of a partition, oldest
// first.
func verifySegmentFiles(t *testing.T, dir, topic string, partition int) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "topics", topic, fmt.Sprint(partition), "[0-9]*"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	if len(files) == 0 {
		t.Fatalf("no segment files in %s/%d", topic, partition)
	}
	return files
}

// verifySnapshot returns the name and content of every file under dir
// but the lock file, to check that a command changed nothing.
func verifySnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := make(map[string]string)
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || path == filepath.Join(dir, "LOCK") {
			return err
		}
		if d.IsDir() {
			snap[path] = "dir"
			return nil
		}
		data, err := os.ReadFile(path)
		snap[path] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// verifySameSnapshot fails the test if the two snapshots differ.
func verifySameSnapshot(t *testing.T, before, after map[string]string) {
	t.Helper()
	for path, data := range before {
		got, ok := after[path]
		switch {
		case !ok:
			t.Errorf("%s was removed", path)
		case got != data:
			t.Errorf("%s changed: %d bytes before, %d after", path, len(data), len(got))
		}
	}
	for path := range after {
		if _, ok := before[path]; !ok {
			t.Errorf("%s was created", path)
		}
	}
}
