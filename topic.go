package eventlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/eventlog/eventlog/internal/atomicfile"
)

// maxPartitions bounds TopicConfig.Partitions: each partition costs a
// goroutine, open files and memory (see Options), so a typo such as 1e9
// is refused rather than tried.
const maxPartitions = 100_000

// TopicConfig configures a topic. The zero value is valid: one partition,
// records kept forever.
type TopicConfig struct {
	// Partitions is the number of partitions. Zero means 1. It cannot be
	// changed after the topic is created.
	Partitions int

	// Retention is how long records are kept. Zero means forever.
	// Retention deletes whole segments whose every record is older, so a
	// record may outlive it by up to a segment's worth of newer neighbours,
	// and the segment holding a partition's newest record is always kept.
	Retention time.Duration

	// RetentionBytes bounds the bytes kept per partition. Zero means no
	// bound. Like Retention it deletes whole segments from the front, and
	// never the one holding the newest record.
	RetentionBytes int64
}

func (c TopicConfig) withDefaults() TopicConfig {
	if c.Partitions == 0 {
		c.Partitions = 1
	}
	return c
}

func (c TopicConfig) validate() error {
	switch {
	case c.Partitions < 0 || c.Partitions > maxPartitions:
		return fmt.Errorf("%d partitions (want 1..%d): %w", c.Partitions, maxPartitions, ErrInvalidConfig)
	case c.Retention < 0:
		return fmt.Errorf("negative Retention %v: %w", c.Retention, ErrInvalidConfig)
	case c.RetentionBytes < 0:
		return fmt.Errorf("negative RetentionBytes %d: %w", c.RetentionBytes, ErrInvalidConfig)
	}
	return nil
}

// validateName applies Kafka's rule for topic names: 1 to 249 bytes of
// [a-zA-Z0-9._-], and not "." or "..".
func validateName(name string) error {
	if name == "" || len(name) > 249 || name == "." || name == ".." {
		return fmt.Errorf("name %q: %w", name, ErrInvalidName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("name %q (byte %q at %d): %w", name, c, i, ErrInvalidName)
		}
	}
	return nil
}

// reservedPrefix starts the names of the Log's internal topics, such as
// offsetsTopic. Users can neither create, delete nor produce to them, and
// Log.Topics does not list them.
const reservedPrefix = "__"

func isReserved(name string) bool { return strings.HasPrefix(name, reservedPrefix) }

// validateUserTopic is validateName plus the reserved prefix.
func validateUserTopic(name string) error {
	if err := validateName(name); err != nil {
		return err
	}
	if isReserved(name) {
		return fmt.Errorf("name %q: names starting with %q are reserved for internal topics: %w", name, reservedPrefix, ErrInvalidName)
	}
	return nil
}

// Topic is a named, partitioned log. Get one from Log.CreateTopic or
// Log.Topic. It is safe for concurrent use.
type Topic struct {
	log   *Log
	name  string
	cfg   TopicConfig
	parts []*Partition
	dir   string   // "" for InMemory
	grew  notifier // broadcast after a durable append to any partition

	// ctx ends when the Log closes (cause ErrClosed) or the topic is
	// deleted (cause ErrUnknownTopic); bg holds the partitions' commit loops.
	ctx    context.Context
	cancel context.CancelCauseFunc
	bg     errgroup.Group

	storesMu sync.Mutex // serializes retention with closing the stores
	stopped  bool       // guarded by storesMu: the stores are closed
}

// Name returns the topic's name.
func (t *Topic) Name() string { return t.name }

// Config returns the topic's configuration, with defaults filled in.
func (t *Topic) Config() TopicConfig { return t.cfg }

// Partitions returns the number of partitions.
func (t *Topic) Partitions() int { return len(t.parts) }

// Partition returns partition i, for reading. The error wraps
// ErrUnknownPartition if i is outside [0, Partitions()).
func (t *Topic) Partition(i int) (*Partition, error) {
	if i < 0 || i >= len(t.parts) {
		return nil, fmt.Errorf("topic %q partition %d of %d: %w", t.name, i, len(t.parts), ErrUnknownPartition)
	}
	return t.parts[i], nil
}

// CreateTopic creates a topic and returns it. Its configuration is stored
// before CreateTopic returns, so the topic survives a crash and a restart.
// The error wraps ErrInvalidName, ErrInvalidConfig, ErrTopicExists or
// ErrClosed; on error nothing is changed. Names starting with "__" are
// reserved for internal topics (ErrInvalidName).
func (l *Log) CreateTopic(name string, cfg TopicConfig) (*Topic, error) {
	if err := validateUserTopic(name); err != nil {
		return nil, err
	}
	return l.createTopic(name, cfg)
}

// createTopic is CreateTopic without the reserved-name check, for internal
// topics.
func (l *Log) createTopic(name string, cfg TopicConfig) (*Topic, error) {
	if err := validateName(name); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("topic %q: %w", name, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	old := *l.topics.Load()
	if _, ok := old[name]; ok {
		return nil, fmt.Errorf("topic %q: %w", name, ErrTopicExists)
	}
	if !l.opts.InMemory {
		// The directory appears first and topic.json last: Open removes a
		// topic directory that has no topic.json.
		dir := filepath.Join(l.topicsDir(), name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, fmt.Errorf("eventlog: create topic %q: %w", name, err)
		}
		if err := writeTopicConfig(dir, cfg); err != nil {
			return nil, errors.Join(err, os.RemoveAll(dir))
		}
		if err := atomicfile.SyncDir(l.topicsDir()); err != nil {
			return nil, errors.Join(fmt.Errorf("eventlog: create topic %q: %w", name, err), os.RemoveAll(dir))
		}
	}
	t, err := l.openTopic(name, cfg)
	if err != nil {
		if !l.opts.InMemory {
			err = errors.Join(err, os.RemoveAll(filepath.Join(l.topicsDir(), name)))
		}
		return nil, err
	}
	t.start()
	m := maps.Clone(old)
	m[name] = t
	l.topics.Store(&m)
	return t, nil
}

// DeleteTopic deletes a topic and all its records. Produce, Read and Tail
// calls using it end with an error wrapping ErrUnknownTopic. Records
// handed to its partitions before the call are written first, then
// removed with the rest. The error wraps ErrUnknownTopic if there is no
// such topic, and ErrInvalidName for an internal ("__") topic.
func (l *Log) DeleteTopic(name string) error {
	if isReserved(name) {
		return fmt.Errorf("delete topic %q: internal topics cannot be deleted: %w", name, ErrInvalidName)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	old := *l.topics.Load()
	t, ok := old[name]
	if !ok {
		return fmt.Errorf("topic %q: %w", name, ErrUnknownTopic)
	}
	m := maps.Clone(old)
	delete(m, name)
	l.topics.Store(&m)

	t.cancel(fmt.Errorf("topic %q deleted: %w", name, ErrUnknownTopic))
	err := t.bg.Wait()
	err = errors.Join(err, t.closeStores())
	if l.opts.InMemory {
		return err
	}
	// Rename first, so a crash never leaves half a topic behind under its
	// name; Open empties the trash.
	if err := os.MkdirAll(l.trashDir(), 0o755); err != nil {
		return fmt.Errorf("eventlog: delete topic %q: %w", name, err)
	}
	trash := filepath.Join(l.trashDir(), name+"."+strconv.FormatInt(time.Now().UnixNano(), 10))
	if err := os.Rename(t.dir, trash); err != nil {
		return fmt.Errorf("eventlog: delete topic %q: %w", name, err)
	}
	err = errors.Join(err, atomicfile.SyncDir(l.topicsDir()), os.RemoveAll(trash))
	return err
}

// openTopic opens the partitions of a topic whose configuration is stored.
func (l *Log) openTopic(name string, cfg TopicConfig) (*Topic, error) {
	t := &Topic{log: l, name: name, cfg: cfg}
	t.ctx, t.cancel = context.WithCancelCause(l.ctx)
	if !l.opts.InMemory {
		t.dir = filepath.Join(l.topicsDir(), name)
	}
	for i := range cfg.Partitions {
		var dir string
		if t.dir != "" {
			dir = filepath.Join(t.dir, strconv.Itoa(i))
		}
		p := &Partition{log: l, t: t, topic: name, id: i, reqs: make(chan *appendReq)}
		store, err := l.openStore(dir)
		if err != nil {
			t.closeStores()
			t.cancel(ErrClosed)
			return nil, p.storeError(err)
		}
		p.store = store
		_, next := store.Bounds()
		p.durable.Store(next)
		t.parts = append(t.parts, p)
	}
	if t.dir != "" {
		// The partition directories OpenWAL may just have created must
		// survive a crash along with the records soon acknowledged in them.
		if err := atomicfile.SyncDir(t.dir); err != nil {
			t.closeStores()
			t.cancel(ErrClosed)
			return nil, fmt.Errorf("eventlog: topic %q: %w", name, err)
		}
	}
	return t, nil
}

// start runs the commit loop of every partition. The caller holds l.mu
// (or is Open, before anyone else can see the Log) and has checked that
// the Log is not closed, so Close waits for these goroutines.
func (t *Topic) start() {
	for _, p := range t.parts {
		t.bg.Go(p.commitLoop)
	}
}

// closeStores syncs and closes every partition's store, once.
func (t *Topic) closeStores() error {
	t.storesMu.Lock()
	defer t.storesMu.Unlock()
	if t.stopped {
		return nil
	}
	t.stopped = true
	var err error
	for _, p := range t.parts {
		if p.store != nil {
			err = errors.Join(err, p.storeError(p.store.Close()))
		}
	}
	return err
}

// topicFile is the JSON stored in topic.json.
type topicFile struct {
	Version        int   `json:"version"`
	Partitions     int   `json:"partitions"`
	RetentionNanos int64 `json:"retention_ns,omitempty"`
	RetentionBytes int64 `json:"retention_bytes,omitempty"`
}

const topicFileVersion = 1

func writeTopicConfig(dir string, cfg TopicConfig) error {
	data, err := json.Marshal(topicFile{Version: topicFileVersion, Partitions: cfg.Partitions,
		RetentionNanos: int64(cfg.Retention), RetentionBytes: cfg.RetentionBytes})
	if err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "topic.json"), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("eventlog: write topic config: %w", err)
	}
	return nil
}

func readTopicConfig(dir string) (TopicConfig, error) {
	name := filepath.Join(dir, "topic.json")
	data, err := os.ReadFile(name)
	if err != nil {
		return TopicConfig{}, fmt.Errorf("eventlog: %w", err)
	}
	var f topicFile
	if err := json.Unmarshal(data, &f); err != nil {
		return TopicConfig{}, fmt.Errorf("%s: %w: %w", name, ErrCorrupt, err)
	}
	if f.Version != topicFileVersion {
		return TopicConfig{}, fmt.Errorf("%s: unknown version %d: %w", name, f.Version, ErrCorrupt)
	}
	cfg := TopicConfig{Partitions: f.Partitions, Retention: time.Duration(f.RetentionNanos), RetentionBytes: f.RetentionBytes}
	if err := cfg.validate(); err != nil || cfg.Partitions == 0 {
		return TopicConfig{}, fmt.Errorf("%s: bad configuration %+v: %w", name, f, ErrCorrupt)
	}
	return cfg, nil
}
