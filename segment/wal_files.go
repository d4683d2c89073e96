package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// segFile is a segment file found in the directory.
type segFile struct {
	index uint64
	path  string
	size  int64
}

// listSegments returns the segment files of dir in index order, as
// tidwall/wal's load will see them after it has finished an interrupted
// TruncateFront: a NNN.START file replaces NNN and every file before it.
// It classifies names exactly as tidwall does (a name whose first 20
// characters are a non-zero decimal number is a segment if it is exactly
// that, or that plus ".START" or ".END"); other files are not its business.
func listSegments(dir string) ([]segFile, error) {
	ents, err := os.ReadDir(dir) // sorted by name, as tidwall's ioutil.ReadDir
	if err != nil {
		return nil, fmt.Errorf("segment: %w", err)
	}
	var files []segFile
	start := -1
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || len(name) < 20 {
			continue
		}
		index, err := strconv.ParseUint(name[:20], 10, 64)
		if err != nil || index == 0 {
			continue
		}
		path := filepath.Join(dir, name)
		isStart := len(name) == 26 && strings.HasSuffix(name, ".START")
		isEnd := len(name) == 24 && strings.HasSuffix(name, ".END")
		switch {
		case isEnd:
			// tidwall would delete every segment after it; only TruncateBack
			// writes one, and this package never calls it.
			return nil, &CorruptError{File: path, Pos: -1, Offset: -1, Err: fmt.Errorf(
				"leftover of a wal TruncateBack, which this package never makes: %w", ErrCorrupt)}
		case isStart && start >= 0:
			return nil, &CorruptError{File: path, Pos: -1, Offset: -1, Err: fmt.Errorf(
				"a second .START file (after %s): %w", files[start].path, ErrCorrupt)}
		case isStart:
			start = len(files)
		case len(name) != 20:
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("segment: %w", err)
		}
		files = append(files, segFile{index: index, path: path, size: info.Size()})
	}
	if start >= 0 {
		files = files[start:] // tidwall removes the files before it, then renames it
	}
	return files, nil
}

// tailScan is what repairTail learned of the last segment file.
type tailScan struct {
	ScanResult
	first int64 // offset of its first record, if Entries > 0
}

// repairTail scans the last segment file and cuts a torn tail off it.
func (w *WAL) repairTail(f segFile) (tailScan, error) {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return tailScan{}, fmt.Errorf("segment: %w", err)
	}
	res, err := ScanSegment(data)
	if err != nil {
		return tailScan{}, locate(err, f.path)
	}
	ts := tailScan{ScanResult: res}
	if res.Entries > 0 {
		size, n := binary.Uvarint(data)
		h, err := DecodeHeader(data[n : n+int(size)])
		if err != nil { // ScanSegment accepted it: not reached
			return tailScan{}, locate(err, f.path)
		}
		ts.first = h.FirstOffset
	}
	if res.TornBytes == 0 {
		return ts, nil
	}
	if err := cutFile(f.path, res.ValidBytes); err != nil {
		return tailScan{}, err
	}
	w.opts.Logger.Warn("segment: cut a torn tail off the last segment file",
		"file", f.path, "kept_bytes", res.ValidBytes, "cut_bytes", res.TornBytes, "entries", res.Entries)
	return ts, nil
}

// cutFile truncates path to size bytes and fsyncs it.
func cutFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("segment: cut torn tail: %w", err)
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("segment: cut torn tail: %w", err)
	}
	return nil
}

// sealedEnd scans a whole sealed segment file, which must hold exactly
// entries nextIndex-f.index valid entries and nothing else, and returns the
// offset after its last record.
func sealedEnd(f segFile, nextIndex uint64) (int64, error) {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return 0, fmt.Errorf("segment: %w", err)
	}
	res, err := ScanSegment(data)
	switch {
	case err != nil:
		return 0, locate(err, f.path)
	case res.TornBytes > 0:
		return 0, &CorruptError{File: f.path, Pos: res.ValidBytes, Offset: -1, Err: fmt.Errorf(
			"sealed segment ends in %d bytes that are no valid entry: %w", res.TornBytes, ErrCorrupt)}
	case uint64(res.Entries) != nextIndex-f.index:
		return 0, &CorruptError{File: f.path, Pos: -1, Offset: -1, Err: fmt.Errorf(
			"holds %d entries, the next file's name implies %d: %w", res.Entries, nextIndex-f.index, ErrCorrupt)}
	}
	return res.Last.FirstOffset + int64(res.Last.Count), nil
}

// chainNext scans a whole segment file and returns where the next one
// must start if the file is whole: the wal index after its last entry and
// the offset after its last record. ok is false if the file cannot be read
// or is not a run of valid entries only.
func chainNext(f segFile) (index uint64, offset int64, ok bool) {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return 0, 0, false
	}
	res, err := ScanSegment(data)
	if err != nil || res.TornBytes > 0 || res.Entries == 0 {
		return 0, 0, false
	}
	return f.index + uint64(res.Entries), res.Last.FirstOffset + int64(res.Last.Count), true
}

// firstHeader reads the fixed header of the first entry of a segment file:
// a read of at most 39 bytes, not of the entry or the file, so OpenWAL costs
// O(files) however large the entries are. The checksum is not verified
// here, as it covers the whole entry; only the version and the fields'
// plausibility are. That is safe because the header is used only to place
// the file in the segment table, and every entry read later is checksummed
// and checked against that table (the first entry of a segment must start
// at the table's offset): a damaged header is reported then, or at once if
// it breaks the order of the files.
//
// This reads the header layout of codec.go (offVersion, offFirstOffset,
// offCount) directly.
func firstHeader(path string) (BatchHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return BatchHeader{}, fmt.Errorf("segment: %w", err)
	}
	defer f.Close()
	var buf [binary.MaxVarintLen64 + BatchOverhead]byte
	n, err := f.ReadAt(buf[:], 0)
	if err != nil && err != io.EOF {
		return BatchHeader{}, fmt.Errorf("segment: %w", err)
	}
	corrupt := func(why string) error {
		return &CorruptError{File: path, Pos: 0, Offset: -1, Err: fmt.Errorf("first entry: %s: %w", why, ErrCorrupt)}
	}
	size, w := binary.Uvarint(buf[:n])
	switch {
	case w <= 0:
		return BatchHeader{}, corrupt("invalid length")
	case size < BatchOverhead || n-w < BatchOverhead:
		return BatchHeader{}, corrupt("shorter than a batch header")
	}
	hdr := buf[w : w+BatchOverhead]
	h := BatchHeader{
		FirstOffset: int64(binary.LittleEndian.Uint64(hdr[offFirstOffset:])),
		Count:       int(binary.LittleEndian.Uint32(hdr[offCount:])),
	}
	switch {
	case hdr[offVersion] != BatchVersion:
		return BatchHeader{}, corrupt(fmt.Sprintf("format version %d, want %d", hdr[offVersion], BatchVersion))
	case h.FirstOffset < 0 || h.Count == 0:
		return BatchHeader{}, corrupt(fmt.Sprintf("implausible offsets %d+%d", h.FirstOffset, h.Count))
	}
	return h, nil
}

// locate returns err with its *CorruptError naming file.
func locate(err error, file string) error {
	var ce *CorruptError
	if errors.As(err, &ce) {
		c := *ce
		c.File = file
		return &c
	}
	return &CorruptError{File: file, Pos: -1, Offset: -1, Err: err}
}
