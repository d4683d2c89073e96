// Package dirlock gives one owner at a time exclusive use of a directory.
//
// Lock takes a lock on the file LOCK inside the directory. While one owner
// holds it, every other Lock of that directory fails at once with an error
// matching ErrLocked: it never waits. That holds between processes and
// within one process, so two Logs opened on the same directory by the same
// program exclude each other too.
//
// How the lock is released on a crash depends on the platform; see Lock.
// The LOCK file itself is left in place on unlock: only the lock on it
// means anything, and removing the file would let two owners lock two
// different files of the same name.
package dirlock

import "errors"

// ErrLocked is matched (with errors.Is) by the error Lock returns when
// another owner, in this process or another, already holds the lock. The
// error names the directory.
var ErrLocked = errors.New("dirlock: directory is locked by another owner")

// FileName is the name of the lock file Lock creates inside the directory.
const FileName = "LOCK"
