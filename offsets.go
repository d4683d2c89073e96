package eventlog

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// offsetsTopic is the internal topic holding every group's committed
// offsets, as Kafka's __consumer_offsets does. It has one partition, so one
// commit loop orders all commits, and it is an ordinary topic on disk, so
// that replication carries it like any other.
//
// Each commit of one partition's offset is one record:
//
//	Key   = group "\x00" topic "\x00" partition (decimal ASCII)
//	Value = 0x01 (format version) then the offset as a uvarint
//
// A nil Value (a tombstone) deletes the key: DeleteGroup writes one per
// partition the group had committed. Group and topic names cannot hold a
// 0x00 byte, so keys are unambiguous. When the Log opens the topic for the
// first consumer group, it replays it from the start, the last record of a
// key winning.
//
// The topic grows by one small record per committed partition (commits
// that change nothing are skipped). It has no time or size retention, since
// that could delete the only record of a group's offset; instead the store
// compacts it (see compactLocked): once enough records have been written
// since the last snapshot, it appends a snapshot of every live offset and
// drops the whole segments before it, so the topic stays within a few
// times the live state plus a segment.
const offsetsTopic = reservedPrefix + "consumer_offsets"

const offsetsValueVersion = 1

// groupRegistry is the Log's consumer groups and their offsets store.
type groupRegistry struct {
	mu      sync.Mutex // guards groups and offsets; taken before Log.mu and ConsumerGroup.mu
	groups  map[string]*ConsumerGroup
	offsets *offsetStore // nil until a group needs it
}

// offsetStore keeps every group's committed offsets in memory and makes
// each change durable in offsetsTopic before applying it.
type offsetStore struct {
	part *Partition

	// writeMu orders writes with snapshots: a write holds it shared from
	// before its records are appended until they are applied to committed,
	// a snapshot holds it exclusively. Without it, a snapshot could read an
	// offset just before a concurrent commit applied a newer one, and then
	// append the older value after the newer record.
	writeMu sync.RWMutex

	mu            sync.Mutex // guards committed and sinceSnapshot
	committed     map[string]map[TopicPartition]int64
	sinceSnapshot int // records appended since the last snapshot (or Open)
}

// compactAfter is the fewest records written since the last snapshot that
// make the store take a new one; it also takes one only once that is four
// times the live offsets, so a snapshot always replaces far more than it adds.
const compactAfter = 4096

// offsetsLocked returns the Log's offset store, opening (and replaying)
// the internal topic on first use. With create false it returns nil, nil
// when the topic does not exist yet. The caller holds l.groups.mu.
func (l *Log) offsetsLocked(create bool) (*offsetStore, error) {
	if s := l.groups.offsets; s != nil {
		return s, nil
	}
	if l.isClosed() {
		return nil, ErrClosed
	}
	t, ok := (*l.topics.Load())[offsetsTopic]
	if !ok {
		if !create {
			return nil, nil
		}
		var err error
		if t, err = l.createTopic(offsetsTopic, TopicConfig{Partitions: 1}); err != nil {
			return nil, fmt.Errorf("create %s: %w", offsetsTopic, err)
		}
	}
	s := &offsetStore{part: t.parts[0], committed: make(map[string]map[TopicPartition]int64)}
	if err := s.replay(l.ctx); err != nil {
		return nil, err
	}
	l.groups.offsets = s
	return s, nil
}

// replay loads every committed offset from the internal topic.
func (s *offsetStore) replay(ctx context.Context) error {
	for rec, err := range s.part.Read(ctx, s.part.FirstOffset()) {
		if err != nil {
			return fmt.Errorf("read committed offsets: %w", err)
		}
		group, tp, err := decodeOffsetKey(rec.Key)
		if err != nil {
			return &CorruptError{Topic: offsetsTopic, Offset: rec.Offset, Err: err}
		}
		if rec.Value == nil {
			s.deleteLocked(group, tp)
			continue
		}
		off, err := decodeOffsetValue(rec.Value)
		if err != nil {
			return &CorruptError{Topic: offsetsTopic, Offset: rec.Offset, Err: err}
		}
		s.setLocked(group, tp, off)
		s.sinceSnapshot++
	}
	return nil
}

func encodeOffsetKey(group string, tp TopicPartition) []byte {
	k := make([]byte, 0, len(group)+len(tp.Topic)+8)
	k = append(k, group...)
	k = append(k, 0)
	k = append(k, tp.Topic...)
	k = append(k, 0)
	return strconv.AppendInt(k, int64(tp.Partition), 10)
}

func decodeOffsetKey(k []byte) (string, TopicPartition, error) {
	parts := strings.Split(string(k), "\x00")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return "", TopicPartition{}, fmt.Errorf("bad committed-offset key %q", k)
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil || n < 0 || strconv.Itoa(n) != parts[2] {
		return "", TopicPartition{}, fmt.Errorf("bad partition in committed-offset key %q", k)
	}
	return parts[0], TopicPartition{Topic: parts[1], Partition: n}, nil
}

func encodeOffsetValue(off int64) []byte {
	return binary.AppendUvarint([]byte{offsetsValueVersion}, uint64(off))
}

func decodeOffsetValue(v []byte) (int64, error) {
	if len(v) < 2 || v[0] != offsetsValueVersion {
		return 0, fmt.Errorf("bad committed-offset value %x", v)
	}
	off, n := binary.Uvarint(v[1:])
	if n <= 0 || n != len(v)-1 || off > 1<<62 {
		return 0, fmt.Errorf("bad committed-offset value %x", v)
	}
	return int64(off), nil
}

func (s *offsetStore) setLocked(group string, tp TopicPartition, off int64) {
	m := s.committed[group]
	if m == nil {
		m = make(map[TopicPartition]int64)
		s.committed[group] = m
	}
	m[tp] = off
}

func (s *offsetStore) deleteLocked(group string, tp TopicPartition) {
	if m := s.committed[group]; m != nil {
		delete(m, tp)
		if len(m) == 0 {
			delete(s.committed, group)
		}
	}
}

// get returns group's committed offset for tp.
func (s *offsetStore) get(group string, tp TopicPartition) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	off, ok := s.committed[group][tp]
	return off, ok
}

// groups returns the names of the groups with committed offsets.
func (s *offsetStore) groups() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Keys(s.committed))
}

// has reports whether group has any committed offset.
func (s *offsetStore) has(group string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.committed[group]) > 0
}

// commit makes offs group's committed offsets. It returns once they are
// durable under Options.Sync, as one batch (all or none). Offsets equal
// to those already committed are not written again.
//
// If ctx ends before the batch is handed to the commit loop nothing is
// written; once handed over, commit waits for the answer (one write and
// fsync) whatever ctx does, so its result always says what happened.
func (s *offsetStore) commit(ctx context.Context, group string, offs map[TopicPartition]int64) error {
	var recs []Record
	for _, tp := range slices.SortedFunc(maps.Keys(offs), compareTopicPartitions) {
		if old, ok := s.get(group, tp); ok && old == offs[tp] {
			continue
		}
		recs = append(recs, Record{Topic: offsetsTopic, Key: encodeOffsetKey(group, tp), Value: encodeOffsetValue(offs[tp])})
	}
	s.writeMu.RLock()
	if err := s.write(ctx, recs); err != nil {
		s.writeMu.RUnlock()
		return err
	}
	s.mu.Lock()
	for tp, off := range offs {
		s.setLocked(group, tp, off)
	}
	s.sinceSnapshot += len(recs)
	s.mu.Unlock()
	s.writeMu.RUnlock()
	s.maybeCompact(ctx)
	return nil
}

// deleteGroup writes a tombstone for each of group's committed offsets
// and forgets them.
func (s *offsetStore) deleteGroup(ctx context.Context, group string) error {
	s.mu.Lock()
	tps := slices.SortedFunc(maps.Keys(s.committed[group]), compareTopicPartitions)
	s.mu.Unlock()
	recs := make([]Record, 0, len(tps))
	for _, tp := range tps {
		recs = append(recs, Record{Topic: offsetsTopic, Key: encodeOffsetKey(group, tp)})
	}
	s.writeMu.RLock()
	if err := s.write(ctx, recs); err != nil {
		s.writeMu.RUnlock()
		return err
	}
	s.mu.Lock()
	delete(s.committed, group)
	s.sinceSnapshot += len(recs)
	s.mu.Unlock()
	s.writeMu.RUnlock()
	s.maybeCompact(ctx)
	return nil
}

// maybeCompact compacts the topic when enough has been written since the
// last snapshot. The commit that triggers it has already succeeded, so a
// failure is only logged: the next commit tries again.
func (s *offsetStore) maybeCompact(ctx context.Context) {
	s.mu.Lock()
	due := s.sinceSnapshot >= compactAfter && s.sinceSnapshot >= 4*s.liveLocked()
	s.mu.Unlock()
	if !due {
		return
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.compactLocked(ctx); err != nil {
		s.part.log.opts.Logger.Warn("eventlog: compacting committed offsets failed", "err", err)
	}
}

// compactLocked appends a snapshot of every live offset, then drops the
// whole segments before the snapshot's first record. The caller holds
// writeMu exclusively, so no commit is between reading the state and
// appending it. A crash in between leaves the snapshot and the old records
// both in place: replay reads the old ones first, then the snapshot, and
// ends with the same state.
func (s *offsetStore) compactLocked(ctx context.Context) error {
	s.mu.Lock()
	if s.sinceSnapshot < compactAfter { // another commit compacted first
		s.mu.Unlock()
		return nil
	}
	var recs []Record
	for _, group := range slices.Sorted(maps.Keys(s.committed)) {
		m := s.committed[group]
		for _, tp := range slices.SortedFunc(maps.Keys(m), compareTopicPartitions) {
			recs = append(recs, Record{Topic: offsetsTopic, Key: encodeOffsetKey(group, tp), Value: encodeOffsetValue(m[tp])})
		}
	}
	s.mu.Unlock()

	start := s.part.NextOffset() // writes are excluded: the snapshot starts here
	if len(recs) > 0 {
		if err := s.write(ctx, recs); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.sinceSnapshot = 0
	s.mu.Unlock()
	return s.part.dropSegmentsBefore(start)
}

// liveLocked counts the committed offsets held. The caller holds s.mu.
func (s *offsetStore) liveLocked() int {
	n := 0
	for _, m := range s.committed {
		n += len(m)
	}
	return n
}

// write appends recs to the offsets partition as one batch and waits until
// it is durable.
func (s *offsetStore) write(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	req := &appendReq{recs: recs, done: make(chan error, 1)}
	if err := s.part.handOff(ctx, req); err != nil {
		return err
	}
	if err := <-req.done; err != nil { // always answered: the loop owns req now
		return fmt.Errorf("write committed offsets: %w", err)
	}
	return nil
}
