package eventlog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/eventlog/eventlog/internal/atomicfile"
	"github.com/eventlog/eventlog/internal/dirlock"
	"github.com/eventlog/eventlog/segment"
)

// Log is an open event log: a set of topics in one directory, or in memory.
// It is safe for concurrent use by many goroutines. Call Close when done.
//
// On disk a Log owns its whole directory:
//
//	LOCK                      held while the Log is open (an OS file lock)
//	topics/NAME/topic.json    a topic's configuration
//	topics/NAME/N/            partition N's segment files (see segment/FORMAT.md)
type Log struct {
	dir  string
	opts Options

	// budget bounds the tidwall/wal memory of every partition's WAL
	// (Options.MaxResidentBytes); nil for an InMemory log.
	budget *segment.Budget

	// topics is a copy-on-write map, replaced under mu and read without any
	// lock, so producers find their topic without contending.
	topics atomic.Pointer[map[string]*Topic]

	mu     sync.Mutex // guards closed and every change to topics
	closed bool

	// groups holds the consumer groups and their committed offsets (group.go).
	groups groupRegistry

	// Every goroutine the Log starts runs in bg (or in a topic's group) and
	// watches ctx. Close cancels ctx with the cause ErrClosed, then waits.
	ctx       context.Context
	cancel    context.CancelCauseFunc
	bg        errgroup.Group
	closeOnce sync.Once

	unlock func() error // releases the directory lock; a no-op for InMemory
}

// Open opens the log in dir, creating the directory if needed, and every
// topic stored in it. A nil opts means defaults; see Options.
//
// Only one Log may have a directory open at a time: a second Open of the
// same directory, from this process or another, fails at once with
// ErrLocked. The lock is an OS file lock, so a crashed process never
// leaves the directory locked.
//
// Open checks every partition's newest segment: a write torn by a crash is
// cut back to the last whole record (with a warning on Options.Logger), and
// damage anywhere else is reported as a *CorruptError, with nothing changed.
//
// With Options.InMemory, dir must be "" and nothing touches the disk.
func Open(dir string, opts *Options) (*Log, error) {
	o := opts.withDefaults()
	if err := o.validate(dir); err != nil {
		return nil, err
	}
	l := &Log{dir: dir, opts: o, unlock: func() error { return nil }}
	if !o.InMemory {
		l.budget = segment.NewBudget(o.MaxResidentBytes)
	}
	l.topics.Store(&map[string]*Topic{})
	l.ctx, l.cancel = context.WithCancelCause(context.Background())

	if !o.InMemory {
		if err := l.openDir(); err != nil {
			l.cancel(ErrClosed)
			return nil, err
		}
	}
	l.bg.Go(func() error { return l.retentionLoop(l.ctx, o.RetentionCheckInterval) })
	return l, nil
}

// openDir locks the directory and opens every topic in it.
func (l *Log) openDir() error {
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return fmt.Errorf("eventlog: open %s: %w", l.dir, err)
	}
	unlock, err := dirlock.Lock(l.dir)
	if err != nil {
		if errors.Is(err, dirlock.ErrLocked) {
			return fmt.Errorf("open %s: %w", l.dir, ErrLocked)
		}
		return fmt.Errorf("eventlog: lock %s: %w", l.dir, err)
	}
	l.unlock = unlock
	topics, err := l.loadTopics()
	if err != nil {
		for _, t := range topics {
			t.closeStores()
		}
		return errors.Join(err, unlock())
	}
	m := make(map[string]*Topic, len(topics))
	for _, t := range topics {
		m[t.name] = t
		t.start()
	}
	l.topics.Store(&m)
	return nil
}

// topicsDir is where topic directories live; trashDir holds deleted topics
// until their files are removed.
func (l *Log) topicsDir() string { return filepath.Join(l.dir, "topics") }
func (l *Log) trashDir() string  { return filepath.Join(l.dir, "trash") }

// loadTopics opens every topic found on disk. A topic directory without
// its topic.json is the leftover of a CreateTopic cut short by a crash and
// is removed, unless it holds records (see removeUnfinishedTopic).
func (l *Log) loadTopics() ([]*Topic, error) {
	if err := os.RemoveAll(l.trashDir()); err != nil {
		return nil, fmt.Errorf("eventlog: remove deleted topics: %w", err)
	}
	if err := os.MkdirAll(l.topicsDir(), 0o755); err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	entries, err := os.ReadDir(l.topicsDir())
	if err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	var topics []*Topic
	for _, e := range entries {
		if !e.IsDir() || validateName(e.Name()) != nil {
			continue
		}
		cfg, err := readTopicConfig(filepath.Join(l.topicsDir(), e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			if err := l.removeUnfinishedTopic(e.Name()); err != nil {
				return topics, err
			}
			continue
		}
		if err != nil {
			return topics, err
		}
		t, err := l.openTopic(e.Name(), cfg)
		if err != nil {
			return topics, err
		}
		topics = append(topics, t)
	}
	return topics, atomicfile.SyncDir(l.topicsDir())
}

// removeUnfinishedTopic removes the directory of topic name, which has no
// topic.json. CreateTopic makes topic.json durable before it creates any
// partition directory, and no record is written before CreateTopic
// returns, so what a crash inside CreateTopic (or inside the cleanup of a
// failed one) leaves holds no data: the temporary file of the topic.json
// write, and partition directories with empty files. A non-empty file
// anywhere else means the topic.json of a topic holding records was lost:
// deleting the records with it would be silent data loss, so that is
// reported as corruption and nothing is removed.
func (l *Log) removeUnfinishedTopic(name string) error {
	dir := filepath.Join(l.topicsDir(), name)
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if filepath.Dir(path) == dir && strings.HasPrefix(d.Name(), ".topic.json.tmp-") { // atomicfile's temporary name
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > 0 {
			return fmt.Errorf("topic %q: %s holds data (%s) but no topic.json; restore topic.json or remove the directory: %w",
				name, dir, path, ErrCorrupt)
		}
		return nil
	})
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	if err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	l.opts.Logger.Warn("eventlog: removing a topic whose creation did not finish", "topic", name)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	return nil
}

// Topics returns the names of the Log's topics, sorted. Internal topics,
// whose names start with "__" (such as __consumer_offsets), are not
// listed. After Close it returns nil.
func (l *Log) Topics() []string {
	if l.isClosed() {
		return nil
	}
	names := slices.Sorted(maps.Keys(*l.topics.Load()))
	return slices.DeleteFunc(names, isReserved)
}

// Topic returns the topic called name. The error wraps ErrUnknownTopic if
// there is none, and ErrClosed after Close.
func (l *Log) Topic(name string) (*Topic, error) {
	if l.isClosed() {
		return nil, ErrClosed
	}
	t, ok := (*l.topics.Load())[name]
	if !ok {
		return nil, fmt.Errorf("topic %q: %w", name, ErrUnknownTopic)
	}
	return t, nil
}

// isClosed reports whether Close has begun.
func (l *Log) isClosed() bool { return l.ctx.Err() != nil }

// Close stops the Log's background work and waits for it, syncs and closes
// every partition, and releases the directory. Read and Tail loops and
// Produce calls in progress end with ErrClosed; records already handed to
// a partition are written (and synced) before Close returns. Producers
// need not be closed first, but records still buffered in them fail with
// ErrClosed.
//
// The first Close returns any error met while closing; later calls return
// ErrClosed.
func (l *Log) Close() error {
	err := ErrClosed
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.cancel(ErrClosed) // under mu: no goroutine can be started after this
		topics := *l.topics.Load()
		l.mu.Unlock()

		err = l.bg.Wait() // the retention loop
		for _, t := range topics {
			err = errors.Join(err, t.bg.Wait()) // commit loops: nothing writes after this
		}
		for _, t := range topics {
			err = errors.Join(err, t.closeStores())
		}
		err = errors.Join(err, l.unlock()) // last: the directory is ours until here
	})
	return err
}

// retentionLoop applies retention every interval until ctx ends.
func (l *Log) retentionLoop(ctx context.Context, interval time.Duration) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-tick.C:
			l.enforceRetention(now)
		}
	}
}
