package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/eventlog/eventlog/internal/dirlock"
	"github.com/eventlog/eventlog/segment"
)

// verify and dump read a data directory's files themselves instead of
// opening it as a Log: eventlog.Open repairs what it finds (it cuts torn
// tails, removes deleted topics), and these commands must change nothing.
// They take the directory's lock all the same, so no Log writes while they
// read.

// verifyLock locks the data directory for reading its files and returns
// it with the function that unlocks it.
func verifyLock(a *app) (dir string, unlock func() error, err error) {
	dir, err = a.dataDir()
	if err != nil {
		return "", nil, err
	}
	if _, err := os.Stat(dir); err != nil {
		return "", nil, fmt.Errorf("data directory %s: %w", dir, verifyCause(err))
	}
	// Every Log creates topics/ when it opens its directory. Without it
	// this is not a log's directory, and locking it would create a file.
	if info, err := os.Stat(filepath.Join(dir, "topics")); err != nil || !info.IsDir() {
		return "", nil, fmt.Errorf("%s is not an eventlog data directory: it has no topics directory", dir)
	}
	unlock, err = dirlock.Lock(dir)
	if errors.Is(err, dirlock.ErrLocked) {
		return "", nil, fmt.Errorf("%s is in use by another process (it holds %s/%s); stop it first", dir, dir, dirlock.FileName)
	}
	if err != nil {
		return "", nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return dir, unlock, nil
}

// verifyCause returns the cause of a file system error without the path
// it wraps, for messages that name the path already.
func verifyCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// verifyUnlock releases the lock and reports a failure in *err if nothing
// failed before.
func verifyUnlock(unlock func() error, err *error) {
	if uerr := unlock(); uerr != nil && *err == nil {
		*err = fmt.Errorf("unlock the data directory: %w", uerr)
	}
}

// verifySegment is one segment file of a partition.
type verifySegment struct {
	path  string
	index uint64 // tidwall/wal index of its first entry, from its name
	size  int64
}

// verifyOdd is a file in a partition directory that is not one of its
// segments, and why.
type verifyOdd struct {
	path    string
	why     string
	corrupt bool // opening the log would fail over it
}

// verifyListSegments returns the segment files of a partition directory
// in the order tidwall/wal reads them, and the other files there. It
// classifies names as the segment package does when it opens a partition
// (segment/wal_files.go): a segment file is named by its first wal index
// in 20 decimal digits; NNN.START is the leftover of an interrupted front
// truncation, which replaces NNN and every file before it when the log
// opens; NNN.END (a back truncation) is never written by eventlog.
func verifyListSegments(dir string) (segs []verifySegment, odd []verifyOdd, err error) {
	ents, err := os.ReadDir(dir) // sorted by name, as tidwall reads them
	if err != nil {
		return nil, nil, err
	}
	start := -1
	for _, e := range ents {
		name := e.Name()
		path := filepath.Join(dir, name)
		var index uint64
		if len(name) >= 20 {
			index, _ = strconv.ParseUint(name[:20], 10, 64)
		}
		isStart := len(name) == 26 && strings.HasSuffix(name, ".START")
		isEnd := len(name) == 24 && strings.HasSuffix(name, ".END")
		switch {
		case e.IsDir():
			odd = append(odd, verifyOdd{path: path, why: "a directory inside a partition directory; the log ignores it"})
			continue
		case index == 0:
			odd = append(odd, verifyOdd{path: path, why: "not a segment file (its name is not a 20-digit wal index); the log ignores it"})
			continue
		case isEnd:
			odd = append(odd, verifyOdd{path: path, corrupt: true,
				why: "leftover of a wal back truncation, which eventlog never makes; opening the log would fail"})
			continue
		case strings.HasSuffix(name, ".TEMP"):
			odd = append(odd, verifyOdd{path: path, why: "temporary file of an interrupted wal write; the log ignores it"})
			continue
		case isStart && start >= 0:
			odd = append(odd, verifyOdd{path: path, corrupt: true,
				why: fmt.Sprintf("a second .START file (after %s); opening the log would fail", filepath.Base(segs[start].path))})
			continue
		case isStart:
			start = len(segs)
		case len(name) != 20:
			odd = append(odd, verifyOdd{path: path, why: "not a segment file (a 20-digit wal index with a suffix); the log ignores it"})
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, nil, err
		}
		segs = append(segs, verifySegment{path: path, index: index, size: info.Size()})
	}
	if start > 0 {
		for _, s := range segs[:start] {
			odd = append(odd, verifyOdd{path: s.path,
				why: fmt.Sprintf("replaced by %s, the leftover of an interrupted retention truncation: opening the log removes it", filepath.Base(segs[start].path))})
		}
		segs = segs[start:]
	} else if start == 0 {
		odd = append(odd, verifyOdd{path: segs[0].path,
			why: "the leftover of an interrupted retention truncation: opening the log renames it"})
	}
	return segs, odd, nil
}

// verifyEntry is one wal entry of a segment file: the uvarint length and
// the batch it frames (segment/FORMAT.md).
type verifyEntry struct {
	pos    int64  // byte position of the entry in its file
	frame  int    // bytes of the length uvarint
	batch  []byte // the batch, aliasing the file's data
	header segment.BatchHeader
}

// verifyEntries returns the entries of data[:valid], which
// segment.ScanSegment has found to be whole, valid entries.
func verifyEntries(data []byte, valid int64) []verifyEntry {
	var out []verifyEntry
	for pos := int64(0); pos < valid; {
		size, n := binary.Uvarint(data[pos:valid])
		if n <= 0 || size > uint64(valid-pos-int64(n)) {
			break // not reached for a prefix ScanSegment accepted
		}
		batch := data[pos+int64(n) : pos+int64(n)+int64(size)]
		h, err := segment.DecodeHeader(batch)
		if err != nil {
			break // not reached, as above
		}
		out = append(out, verifyEntry{pos: pos, frame: n, batch: batch, header: h})
		pos += int64(n) + int64(size)
	}
	return out
}

// The fixed batch header fields DecodeHeader does not return, at their
// positions in segment/FORMAT.md §2.
const (
	verifyOffCRC     = 0  // uint32: CRC32C of the rest of the batch
	verifyOffVersion = 4  // uint8: format version
	verifyOffHdrCnt  = 25 // uint32: headers over all records
)

// crc returns the entry's stored checksum.
func (e verifyEntry) crc() uint32 { return binary.LittleEndian.Uint32(e.batch[verifyOffCRC:]) }

// version returns the entry's format version byte.
func (e verifyEntry) version() byte { return e.batch[verifyOffVersion] }

// headerCount returns the number of headers over all the entry's records.
func (e verifyEntry) headerCount() uint32 {
	return binary.LittleEndian.Uint32(e.batch[verifyOffHdrCnt:])
}

// verifyRel returns path relative to the data directory, for messages.
func verifyRel(dir, path string) string {
	if rel, err := filepath.Rel(dir, path); err == nil {
		return rel
	}
	return path
}

// verifyTopicFile is the part of a topic's topic.json that verify and dump
// need; the eventlog package writes it (topic.go).
type verifyTopicFile struct {
	Version    int `json:"version"`
	Partitions int `json:"partitions"`
}
