package dirlock_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/eventlog/eventlog/internal/dirlock"
)

// mustLock locks dir and releases it when the test ends, if the test has
// not released it itself.
func mustLock(t *testing.T, dir string) (unlock func() error) {
	t.Helper()
	unlock, err := dirlock.Lock(dir)
	if err != nil {
		t.Fatalf("Lock(%q) = %v; want nil", dir, err)
	}
	t.Cleanup(func() { unlock() })
	return unlock
}

// wantLocked checks that Lock(dir) fails with ErrLocked and names dir.
func wantLocked(t *testing.T, dir string) {
	t.Helper()
	unlock, err := dirlock.Lock(dir)
	if err == nil {
		unlock()
		t.Fatalf("Lock(%q) succeeded while the directory is locked; want ErrLocked", dir)
	}
	if !errors.Is(err, dirlock.ErrLocked) {
		t.Fatalf("Lock(%q) = %v; want an error matching ErrLocked", dir, err)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("Lock(%q) = %q; want the error to name the directory", dir, err)
	}
}

func TestSecondLockInSameProcessFails(t *testing.T) {
	dir := t.TempDir()
	mustLock(t, dir)
	wantLocked(t, dir)
	wantLocked(t, dir) // a failed attempt must not disturb the holder
}

func TestUnlockThenRelock(t *testing.T) {
	dir := t.TempDir()
	unlock := mustLock(t, dir)
	if err := unlock(); err != nil {
		t.Fatalf("unlock() = %v; want nil", err)
	}
	unlock2 := mustLock(t, dir)
	wantLocked(t, dir)
	if err := unlock2(); err != nil {
		t.Fatalf("second unlock() = %v; want nil", err)
	}
}

func TestUnlockTwiceReportsClosed(t *testing.T) {
	dir := t.TempDir()
	unlock := mustLock(t, dir)
	if err := unlock(); err != nil {
		t.Fatalf("unlock() = %v; want nil", err)
	}
	// A stale second unlock must not release a lock someone else took
	// in between.
	mustLock(t, dir)
	if err := unlock(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second call of the first unlock() = %v; want os.ErrClosed", err)
	}
	wantLocked(t, dir)
}

func TestLockCreatesLockFile(t *testing.T) {
	dir := t.TempDir()
	mustLock(t, dir)
	if _, err := os.Stat(filepath.Join(dir, dirlock.FileName)); err != nil {
		t.Errorf("after Lock, Stat(LOCK) = %v; want the file to exist", err)
	}
}

func TestDirectoriesAreIndependent(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	mustLock(t, a)
	mustLock(t, b)
}

func TestMissingDirIsNotErrLocked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	unlock, err := dirlock.Lock(dir)
	if err == nil {
		unlock()
		t.Fatalf("Lock(%q) of a missing directory = nil; want an error", dir)
	}
	if errors.Is(err, dirlock.ErrLocked) {
		t.Errorf("Lock(%q) of a missing directory = %v; want an error not matching ErrLocked", dir, err)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Lock(%q) of a missing directory = %v; want os.ErrNotExist", dir, err)
	}
}

// TestConcurrentLockHasOneWinner races many Locks of one directory: exactly
// one may succeed, and every other must fail with ErrLocked.
func TestConcurrentLockHasOneWinner(t *testing.T) {
	dir := t.TempDir()
	const n = 16
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex // guards unlocks and errs
		unlocks []func() error
		errs    []error
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			unlock, err := dirlock.Lock(dir)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			unlocks = append(unlocks, unlock)
		})
	}
	close(start)
	wg.Wait()
	for _, u := range unlocks {
		t.Cleanup(func() { u() })
	}
	if len(unlocks) != 1 {
		t.Fatalf("%d of %d concurrent Locks succeeded; want exactly 1", len(unlocks), n)
	}
	for _, err := range errs {
		if !errors.Is(err, dirlock.ErrLocked) {
			t.Errorf("losing Lock = %v; want ErrLocked", err)
		}
	}
}
