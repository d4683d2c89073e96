package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// machine describes where the figures were measured, for the table header
// and results.json.
type machine struct {
	CPU        string `json:"cpu"`
	CPUs       int    `json:"cpus"`
	MemoryMiB  int64  `json:"memory_mib"`
	Kernel     string `json:"kernel"`
	OS         string `json:"os"`
	Go         string `json:"go"`
	TmpDir     string `json:"tmp_dir"`
	Filesystem string `json:"filesystem"` // of TmpDir, where every run's files go
}

// describeMachine collects what it can; missing pieces are left empty.
func describeMachine(tmp string) machine {
	m := machine{
		CPUs:   runtime.NumCPU(),
		OS:     runtime.GOOS + "/" + runtime.GOARCH,
		Go:     runtime.Version(),
		TmpDir: tmp,
		CPU:    procField("/proc/cpuinfo", "model name"),
	}
	if mem := procField("/proc/meminfo", "MemTotal"); mem != "" {
		var kb int64
		if _, err := fmt.Sscanf(mem, "%d", &kb); err == nil {
			m.MemoryMiB = kb / 1024
		}
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	var st unix.Statfs_t
	if unix.Statfs(tmp, &st) == nil {
		m.Filesystem = fsName(st.Type)
	}
	return m
}

func (m machine) String() string {
	return fmt.Sprintf("%d × %s, %d MiB RAM, %s %s, %s, files on %s (%s)",
		m.CPUs, m.CPU, m.MemoryMiB, m.OS, m.Kernel, m.Go, m.TmpDir, m.Filesystem)
}

// procField returns the value of the first "name: value" line in file.
func procField(file, name string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// fsName names the common filesystem magic numbers of statfs(2).
func fsName(t int64) string {
	switch t {
	case unix.EXT4_SUPER_MAGIC:
		return "ext4"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.TMPFS_MAGIC:
		return "tmpfs: in memory, fsync is free"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlayfs"
	}
	return fmt.Sprintf("filesystem 0x%x", t)
}
