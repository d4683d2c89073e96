package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// dropCache evicts the files under dir from the operating system's page
// cache, so that a following read comes from the disk (a "cold" replay).
//
// Each regular file is fsynced first, because the kernel evicts only clean
// pages, and then advised with posix_fadvise(POSIX_FADV_DONTNEED). This
// needs no root (unlike writing to /proc/sys/vm/drop_caches) and touches
// only these files' pages: other cached data, and pages another process has
// mapped or locked, stay resident. The advice is a hint; on a filesystem
// that ignores it (tmpfs keeps everything in memory) the replay stays warm.
func dropCache(dir string) error {
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return dropFile(path)
	})
	if err != nil {
		return fmt.Errorf("drop page cache under %s: %w", dir, err)
	}
	return nil
}

// dropFile fsyncs one file and advises the kernel to drop its cached pages.
func dropFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// fsync through a read-only descriptor is allowed on Linux and flushes
	// the file's dirty pages, whoever wrote them.
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("fadvise %s: %w", path, err)
	}
	return nil
}
