//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package dirlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// Lock takes an exclusive lock on dir/LOCK, creating the file if needed.
// dir itself must already exist.
//
// If another owner holds the lock, Lock returns at once with an error
// that matches ErrLocked and names dir. Any other error (dir missing, not
// writable, ...) is an *fs.PathError and does not match ErrLocked.
//
// On success, unlock releases the lock. It is safe to call once; later
// calls return an error matching os.ErrClosed. Only unlock or the end of
// the process releases the lock: dropping unlock without calling it keeps
// the directory locked (and one file descriptor open) until the process
// exits.
//
// On this platform the lock is flock(2) with LOCK_EX|LOCK_NB on a file
// descriptor opened with close-on-exec. flock locks belong to the open
// file description, so a second Lock in the same process conflicts with
// the first, and child processes started with os/exec do not inherit it.
// The kernel drops the lock when the process exits for any reason,
// including SIGKILL, so a crash leaves no stale lock behind. flock is
// advisory: it excludes other callers of Lock, not a process that ignores
// the LOCK file. Over NFS, flock's behaviour depends on the client and
// server; keep data directories on a local file system.
func Lock(dir string) (unlock func() error, err error) {
	path := filepath.Join(dir, FileName)
	// A raw descriptor rather than an *os.File: an *os.File that became
	// unreachable would be closed by the garbage collector, and closing
	// it would silently release the lock while the owner still runs.
	fd, err := open(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if err := flock(fd); err != nil {
		syscall.Close(fd)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("dir %q: %w", dir, ErrLocked)
		}
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	var once sync.Once
	return func() error {
		err := fmt.Errorf("unlock %q: %w", dir, os.ErrClosed)
		once.Do(func() {
			// Closing the descriptor releases the flock; there is no
			// need for LOCK_UN first.
			err = nil
			if cerr := syscall.Close(fd); cerr != nil {
				err = &os.PathError{Op: "close", Path: path, Err: cerr}
			}
		})
		return err
	}, nil
}

// open opens path for the lock, creating it, retrying if a signal
// interrupts the call (as os.OpenFile does).
func open(path string) (int, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_CLOEXEC, 0o644)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

// flock takes a non-blocking exclusive flock on fd, retrying if a signal
// interrupts the call.
func flock(fd int) error {
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err
		}
	}
}
