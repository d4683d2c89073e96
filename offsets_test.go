package eventlog

import (
	"testing"
)

// TestCommittedOffsetsTopicStaysSmall commits far more often than the
// compaction threshold and checks that the internal topic keeps only about
// the threshold's worth of records, while the committed offsets stay right
// across a reopen.
func TestCommittedOffsetsTopicStaysSmall(t *testing.T) {
	dir := t.TempDir()
	opts := &Options{SegmentSize: 4096, Sync: SyncNever}
	l, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { l.Close() }()
	if _, err := l.CreateTopic("t", TopicConfig{Partitions: 3}); err != nil {
		t.Fatal(err)
	}
	p, _ := l.NewProducer(&ProducerOptions{Partitioner: ManualPartitioner()})
	for i := range 3 {
		if _, err := p.Produce(t.Context(), Record{Topic: "t", Partition: i}); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	g, err := l.ConsumerGroup("g", &GroupOptions{Topics: []string{"t"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := g.Join(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Poll(t.Context()); err != nil { // takes the partitions
		t.Fatal(err)
	}
	const commits = 3 * compactAfter
	for i := range commits {
		offs := map[TopicPartition]int64{}
		for part := range 3 {
			offs[TopicPartition{"t", part}] = int64((i + part) % 2)
		}
		if err := c.CommitOffsets(t.Context(), offs); err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
	}
	part := l.groups.offsets.part
	held := part.NextOffset() - part.FirstOffset()
	if part.NextOffset() < 3*commits || held > compactAfter+2*4096/16 {
		t.Errorf("offsets topic holds %d of %d records written; want at most about %d", held, part.NextOffset(), compactAfter)
	}
	c.Close()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l, err = Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	g, err = l.ConsumerGroup("g", &GroupOptions{Topics: []string{"t"}})
	if err != nil {
		t.Fatal(err)
	}
	for part := range 3 {
		want := int64((commits - 1 + part) % 2)
		if got, ok := g.Committed("t", part); !ok || got != want {
			t.Errorf("after reopen, committed offset of t/%d = %d, %v; want %d", part, got, ok, want)
		}
	}
}
