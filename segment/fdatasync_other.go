//go:build !linux

package segment

import "os"

// datasync is fsync where this package uses no fdatasync.
func datasync(f *os.File) error { return f.Sync() }
