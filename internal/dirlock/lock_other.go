//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd)

package dirlock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// Lock takes an exclusive lock on dir/LOCK. dir itself must already
// exist.
//
// If another owner holds the lock, Lock returns at once with an error
// that matches ErrLocked and names dir. Any other error does not match
// ErrLocked.
//
// On success, unlock releases the lock. It is safe to call once; later
// calls return an error matching os.ErrClosed.
//
// This platform has no flock(2) in the standard library, so the lock is
// the existence of the LOCK file: Lock creates it with O_EXCL, writes the
// process ID into it, and unlock removes it. Unlike the flock version,
// this lock does NOT die with the process. If a process crashes while
// holding it, LOCK stays behind and every later Lock fails with ErrLocked
// until an operator who has checked that no process uses the directory
// deletes the file. The error says so.
func Lock(dir string) (unlock func() error, err error) {
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		holder, _ := os.ReadFile(path)
		return nil, fmt.Errorf("dir %q (lock file %s, holder pid %q; delete it only if that process is gone): %w",
			dir, path, holder, ErrLocked)
	}
	if err != nil {
		return nil, err // an *fs.PathError naming path
	}
	_, werr := f.WriteString(strconv.Itoa(os.Getpid()))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return nil, werr
	}
	var once sync.Once
	return func() error {
		err := fmt.Errorf("unlock %q: %w", dir, os.ErrClosed)
		once.Do(func() { err = os.Remove(path) })
		return err
	}, nil
}
