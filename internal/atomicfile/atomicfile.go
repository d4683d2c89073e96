// Package atomicfile replaces small files so that a crash leaves either
// the old content or the new, never a mixture, an empty file or a torn
// write.
//
// WriteFile follows the usual sequence: write a temporary file in the
// same directory, fsync it, rename it over the target, then fsync the
// directory so the rename itself is durable. Renaming within one
// directory is atomic on POSIX file systems, which is why the temporary
// file must live next to the target and not in os.TempDir.
//
// The functions keep no state and are safe for concurrent use on
// different paths. Concurrent WriteFiles of the same path do not corrupt
// it: each reader sees one complete version, and the last rename wins.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// tempInfix separates the target's name from the random suffix in a
// temporary file's name: ".<base>.tmp-<random>".
const tempInfix = ".tmp-"

// WriteFile writes data to the file named by path, replacing any file
// already there, so that readers and crashes see either the old file or
// the complete new one.
//
// The new file is created with mode perm, reduced by the process's umask
// exactly as os.WriteFile does for a file it creates. It is always a new
// file: the old file's mode, owner and hard links are not carried over,
// and if path is a symbolic link the link itself is replaced, not its
// target.
//
// When WriteFile returns nil, the content and the rename are durable:
// both the file and its directory have been fsynced. On error, the
// temporary file is removed and path is untouched, except in one case:
// if only the final directory fsync failed, path already holds the new
// content but the rename may not survive a crash. Errors name path.
//
// A crash during WriteFile can leave a temporary file named
// ".<name>.tmp-<random>" in the directory, where <name> is path's last
// element. It is never read; a caller may delete such files at startup.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	if err := writeFile(path, data, perm); err != nil {
		return fmt.Errorf("write %s atomically: %w", path, err)
	}
	return nil
}

func writeFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := createTemp(dir, filepath.Base(path), perm)
	if err != nil {
		return err
	}
	tmp := f.Name()
	renamed := false
	defer func() {
		if !renamed {
			// f is closed by now: Windows cannot remove an open file.
			os.Remove(tmp)
		}
	}()

	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	renamed = true
	return SyncDir(dir)
}

// createTemp creates a new file in dir whose name starts with "."+base and
// cannot clash with another caller's. Unlike os.CreateTemp, which always
// uses mode 0600, it creates the file with perm so the umask applies as it
// would for os.WriteFile.
func createTemp(dir, base string, perm os.FileMode) (*os.File, error) {
	prefix := filepath.Join(dir, "."+base+tempInfix)
	for range 100 {
		name := prefix + strconv.FormatUint(rand.Uint64(), 36)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, &fs.PathError{Op: "createtemp", Path: prefix + "*", Err: fs.ErrExist}
}
