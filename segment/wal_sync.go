package segment

import (
	"errors"
	"fmt"
	"os"
)

// Sync makes every record appended before it durable: it fsyncs the tail
// segment file (sealed ones were fsynced by tidwall when they filled) and,
// if segment files were created or renamed since the last Sync, the
// directory. The fsync runs on a handle of its own, without the lock
// readers take, so reads do not wait for it. Sync never reopens a WAL its
// Budget released: the release fsynced the tail.
//
// A failed fsync fences the WAL (see Append) and is never retried.
func (w *WAL) Sync() error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	if err := w.usableLocked(); err != nil {
		w.mu.Unlock()
		return err
	}
	f, retired, created, last := w.tailFile, w.retired, w.created, w.lastIndex
	w.retired = nil
	w.syncing = f // reopenTailLocked must not close it under the fsync
	needDir := created != w.dirSynced
	needFile := last != w.synced || needDir || len(retired) > 0
	w.mu.Unlock()

	var err error
	// An idle Sync (SyncInterval) costs no fsync. f is nil only if the WAL
	// was released, which fsynced the tail (and set synced) with syncMu held.
	if needFile && f != nil {
		err = w.syncFile(f)
	}
	if err == nil && needDir {
		err = w.syncDir()
	}
	for _, r := range retired {
		r.Close() // tidwall fsynced a sealed file itself; a replaced one was fsynced as its .START
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.syncing = nil
	if err != nil {
		return w.failLocked(fmt.Errorf("sync: %w", err))
	}
	w.dirSynced = max(w.dirSynced, created)
	w.synced = max(w.synced, last)
	if needFile && f == w.tailFile {
		w.tailSyncs++
	}
	return nil
}

// syncFile makes f's data durable (see datasync), or runs the test hook.
func (w *WAL) syncFile(f *os.File) error {
	if w.hooks.syncFile != nil {
		return w.hooks.syncFile(f)
	}
	return datasync(f)
}

// syncDir fsyncs the WAL's directory, or runs the test hook.
func (w *WAL) syncDir() error { return w.syncDirAt(w.dir) }

// syncDirAt fsyncs dir, or runs the test hook.
func (w *WAL) syncDirAt(dir string) error {
	if w.hooks.syncDir != nil {
		return w.hooks.syncDir(dir)
	}
	return syncDir(dir)
}

// syncDir fsyncs a directory, making the creation, renaming and removal of
// its entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// usableLocked returns ErrClosed after Close and the sticky error after a
// failed write or fsync.
func (w *WAL) usableLocked() error {
	if w.closed {
		return ErrClosed
	}
	return w.failed
}

// failLocked fences the WAL with err (if it is not fenced already) and
// returns the fencing error.
func (w *WAL) failLocked(err error) error {
	if w.failed == nil {
		w.failed = fmt.Errorf("segment: %s fenced until reopened: %w", w.dir, err)
	}
	return w.failed
}
