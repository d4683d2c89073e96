package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// rssNow returns this process's resident set size in bytes, read from
// /proc/self/statm (Linux). It returns 0 where that file is unavailable, so
// a workload reporting it shows "0" rather than failing on another OS.
func rssNow() int64 {
	n, err := readRSS("/proc/self/statm")
	if err != nil {
		return 0
	}
	return n
}

// readRSS parses a statm file: its second field is resident pages.
func readRSS(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		return 0, fmt.Errorf("parse %s: %d fields, want at least 2", path, len(fields))
	}
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", path, err)
	}
	return pages * int64(os.Getpagesize()), nil
}
