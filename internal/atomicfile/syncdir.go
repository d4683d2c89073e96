//go:build !windows

package atomicfile

import (
	"io/fs"
	"os"
)

// SyncDir makes the directory entries of dir durable: files created,
// renamed or removed in dir before the call survive a crash once it
// returns nil. It is what makes a rename durable, since fsyncing a file
// does not persist the name that points to it.
//
// The error, if any, is an *fs.PathError naming dir; a dir that is not a
// directory gives one matching fs.ErrInvalid.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	fi, err := d.Stat()
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "syncdir", Path: dir, Err: fs.ErrInvalid}
	}
	if err := d.Sync(); err != nil {
		return err
	}
	return d.Close()
}
