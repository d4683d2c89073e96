package atomicfile

import (
	"io/fs"
	"os"
)

// SyncDir checks that dir is a directory and returns; on Windows it cannot
// do more. A directory handle cannot be fsynced there (FlushFileBuffers
// fails on one), and os.Rename does not ask for MOVEFILE_WRITE_THROUGH. So
// on Windows WriteFile's rename is atomic, but whether it survives a power
// cut right after WriteFile returns is up to NTFS's metadata journal. On
// other systems SyncDir fsyncs the directory.
//
// The error, if any, is an *fs.PathError naming dir.
func SyncDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "syncdir", Path: dir, Err: fs.ErrInvalid}
	}
	return nil
}
