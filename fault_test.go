package eventlog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/eventlog/eventlog/segment"
)

// faultStore passes each call to the real store unless inject, asked
// first with the operation's name, returns an error.
type faultStore struct {
	partitionStore
	inject func(op string) error
}

func (f faultStore) Append(batch []segment.Record) error {
	if err := f.inject("append"); err != nil {
		return err
	}
	return f.partitionStore.Append(batch)
}

func (f faultStore) Sync() error {
	if err := f.inject("sync"); err != nil {
		return err
	}
	return f.partitionStore.Sync()
}

// failNth fails the n-th call (counting from 1) of op, and no other call.
func failNth(op string, n int64, err error) func(string) error {
	var calls atomic.Int64
	return func(got string) error {
		if got == op && calls.Add(1) == n {
			return err
		}
		return nil
	}
}

func openFaulty(t *testing.T, sync SyncPolicy, inject func(string) error) *Log {
	t.Helper()
	opts := &Options{InMemory: true, Sync: sync}
	opts.hooks.wrapStore = func(s partitionStore) partitionStore { return faultStore{s, inject} }
	l, err := Open("", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestFailedWriteOrSyncIsNeverAcknowledged(t *testing.T) {
	for _, op := range []string{"append", "sync"} {
		t.Run(op, func(t *testing.T) {
			errInjected := fmt.Errorf("injected: %s failed", op)
			l := openFaulty(t, SyncAlways, failNth(op, 3, errInjected))
			top, err := l.CreateTopic("t", TopicConfig{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := l.NewProducer(nil)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()

			var acked []int64
			for i := range 5 {
				rec, err := p.Produce(t.Context(), Record{Topic: "t", Value: []byte{byte(i)}})
				switch {
				case i < 2 && err != nil:
					t.Fatalf("produce #%d: %v", i, err)
				case i >= 2 && (!errors.Is(err, errInjected) || !errors.Is(err, ErrFenced)):
					// The failure fences the partition: later appends fail too.
					t.Fatalf("produce #%d after failed %s: err = %v, want ErrFenced wrapping %v", i, op, err, errInjected)
				case err == nil:
					acked = append(acked, rec.Offset)
				}
			}
			part, _ := top.Partition(0)
			var read []int64
			for rec, err := range part.Read(t.Context(), 0) {
				if err != nil {
					t.Fatal(err)
				}
				read = append(read, rec.Offset)
			}
			if !slices.Equal(read, acked) {
				t.Errorf("readers see offsets %v, want exactly the acknowledged %v", read, acked)
			}
		})
	}
}

func TestDiskFullIsErrNoSpace(t *testing.T) {
	l := openFaulty(t, SyncAlways, failNth("append", 1, fmt.Errorf("write seg: %w", syscall.ENOSPC)))
	if _, err := l.CreateTopic("t", TopicConfig{}); err != nil {
		t.Fatal(err)
	}
	p, _ := l.NewProducer(nil)
	defer p.Close()
	_, err := p.Produce(t.Context(), Record{Topic: "t"})
	if !errors.Is(err, ErrNoSpace) || !errors.Is(err, ErrFenced) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Produce on a full disk = %v, want ErrNoSpace, ErrFenced and ENOSPC", err)
	}
}

func TestFailedIntervalSyncFences(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errSync := errors.New("injected: fsync failed")
		l := openFaulty(t, SyncInterval, failNth("sync", 1, errSync))
		if _, err := l.CreateTopic("t", TopicConfig{}); err != nil {
			t.Fatal(err)
		}
		p, _ := l.NewProducer(nil)
		defer p.Close()
		if _, err := p.Produce(t.Context(), Record{Topic: "t"}); err != nil {
			t.Fatalf("first Produce under SyncInterval = %v (acknowledged before the fsync)", err)
		}
		time.Sleep(time.Second) // the bubble's clock: the interval fsync runs, and fails
		synctest.Wait()
		if _, err := p.Produce(t.Context(), Record{Topic: "t"}); !errors.Is(err, errSync) || !errors.Is(err, ErrFenced) {
			t.Fatalf("Produce after a failed interval fsync = %v, want ErrFenced wrapping %v", err, errSync)
		}
	})
}

// A Produce whose ctx ends while its record is being written returns
// ctx.Err(); the record is still written, and Flush and Close wait for it.
func TestProduceCanceledDuringWrite(t *testing.T) {
	inSync := make(chan struct{})
	release := make(chan struct{})
	var first atomic.Bool
	l := openFaulty(t, SyncAlways, func(op string) error {
		if op == "sync" && first.CompareAndSwap(false, true) {
			close(inSync)
			<-release
		}
		return nil
	})
	top, err := l.CreateTopic("t", TopicConfig{})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := l.NewProducer(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := pr.Produce(ctx, Record{Topic: "t", Value: []byte("a")})
		errc <- err
	}()
	<-inSync
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Produce = %v, want context.Canceled", err)
	}
	flushed := make(chan error, 1)
	go func() { flushed <- pr.Flush(context.Background()) }()
	select {
	case err := <-flushed:
		t.Fatalf("Flush returned %v while the record was still being synced", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if err := pr.Close(); err != nil {
		t.Fatal(err)
	}
	part, _ := top.Partition(0)
	if got := part.NextOffset(); got != 1 {
		t.Fatalf("NextOffset = %d, want 1: the record is written", got)
	}
}
