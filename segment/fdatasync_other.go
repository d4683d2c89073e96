//go:build !linux

package segment

import "syscall"

// fdatasync is fsync where the system has no fdatasync we use.
func fdatasync(fd int) error { return syscall.Fsync(fd) }
