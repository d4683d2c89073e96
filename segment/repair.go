package segment

import (
	"fmt"
)

// ScanResult says how much of a segment file is whole, valid entries.
// ValidBytes+TornBytes is the length of the data scanned when ScanSegment
// returns no error.
type ScanResult struct {
	Entries    int         // valid entries from the start of the file
	ValidBytes int64       // bytes taken by those entries, framing included
	TornBytes  int64       // bytes after them that hold no valid entry: a torn tail
	Last       BatchHeader // header of the last valid entry; valid if Entries > 0
}

// ScanSegment checks every entry of one tidwall/wal segment file held in
// data. On disk an entry is uvarint(len(batch)) || batch (tidwall's binary
// framing), and each batch is what AppendBatch writes. An entry is valid if
// its uvarint is minimal and its batch fits in data, DecodeHeader accepts
// the batch (so its checksum holds over every byte), and its first offset
// continues the previous entry's offsets.
//
// Entries are read from the start up to the first invalid one. If no valid
// entry starts at any byte position after the first invalid entry's start
// (a torn write, or a tail that is zero-filled or junk), ScanSegment reports
// the valid prefix with TornBytes > 0 and no error: the caller may cut the
// file to ValidBytes. If a valid entry does start later, the data before it
// was damaged in place, which no crash causes: ScanSegment returns a
// *CorruptError with Pos at the first invalid entry and File empty for the
// caller to fill in. A valid entry whose offsets do not continue the previous
// one is such an error as well. On error the ScanResult still describes the
// valid prefix.
//
// ScanSegment never panics and allocates only for an error. Its work is
// linear in len(data) for any file AppendBatch and tidwall wrote; for
// adversarial input it checksums at most about 4*len(data) bytes and, if
// that is not enough to rule out a valid entry after the damage, returns a
// *CorruptError rather than guess. It does not know the offset the file
// should start at; the caller checks Last and the first entry against its
// segment table.
func ScanSegment(data []byte) (ScanResult, error) {
	var res ScanResult
	pos := 0
	var next int64 // offset the next entry must start at, once Entries > 0
	for pos < len(data) {
		batch, n, framed := frame(data, pos)
		if !framed {
			break
		}
		h, valid := validHeader(batch)
		if !valid {
			break
		}
		if res.Entries > 0 && h.FirstOffset != next {
			// A whole, checksummed batch in the wrong place is not the
			// result of a torn write.
			return res, &CorruptError{Pos: int64(pos), Offset: next, Err: fmt.Errorf(
				"entry at byte %d holds offsets from %d; want %d: %w", pos, h.FirstOffset, next, ErrCorrupt)}
		}
		res.Entries++
		res.Last = h
		next = h.FirstOffset + int64(h.Count)
		pos += n + len(batch)
		res.ValidBytes = int64(pos)
	}
	if pos == len(data) {
		return res, nil
	}

	q, decided := findEntry(data, pos+1, 4*len(data)+(1<<16))
	if q < 0 && decided {
		res.TornBytes = int64(len(data) - pos)
		return res, nil
	}
	affected := int64(-1)
	if res.Entries > 0 {
		affected = next
	}
	cause := entryErr(data, pos)
	if q >= 0 {
		cause = fmt.Errorf("invalid before a valid entry at byte %d, so not a torn tail: %w", q, cause)
	} else {
		cause = fmt.Errorf("invalid, and too many candidate entries follow to tell a torn tail from corruption: %w", cause)
	}
	return res, &CorruptError{Pos: int64(pos), Offset: affected, Err: cause}
}

// entryErr says why the entry at data[pos:] is invalid on its own.
func entryErr(data []byte, pos int) error {
	batch, _, framed := frame(data, pos)
	if !framed {
		return fmt.Errorf("entry at byte %d: %w", pos, frameErr(data, pos))
	}
	if _, err := DecodeHeader(batch); err != nil {
		return fmt.Errorf("entry at byte %d: %w", pos, err)
	}
	return fmt.Errorf("entry at byte %d: %w", pos, ErrCorrupt) // not reached: ScanSegment asks only about invalid entries
}

// frame reads the entry framing at data[pos:] and returns the batch it
// frames and the length of the framing uvarint, or ok false. It does not
// allocate; frameErr explains a failure.
func frame(data []byte, pos int) (batch []byte, n int, ok bool) {
	size, n := uvarint(data[pos:])
	if n <= 0 || size > uint64(len(data)-pos-n) {
		return nil, n, false
	}
	start := pos + n
	return data[start : start+int(size) : start+int(size)], n, true
}

// frameErr says why frame(data, pos) failed.
func frameErr(data []byte, pos int) error {
	size, n := uvarint(data[pos:])
	switch {
	case n == 0:
		return fmt.Errorf("entry length truncated at the end of the file: %w", ErrCorrupt)
	case n < 0:
		return fmt.Errorf("entry length is not a minimal 64-bit varint: %w", ErrCorrupt)
	}
	return fmt.Errorf("entry of %d bytes overruns the file (%d bytes left): %w", size, len(data)-pos-n, ErrCorrupt)
}

// findEntry returns the first position q >= from at which a valid entry
// starts (framing fits and DecodeHeader accepts the batch), or -1 if there
// is none. Cheap checks of the framing and the fixed header come before the
// checksum, so junk and zero-filled tails cost little. It stops, returning
// -1 and false, once more than budget bytes would have been checksummed.
func findEntry(data []byte, from, budget int) (q int, ok bool) {
	for q = from; q < len(data); q++ {
		batch, _, framed := frame(data, q)
		if !framed || !plausibleHeader(batch) {
			continue
		}
		if budget -= len(batch); budget < 0 {
			return -1, false
		}
		if _, valid := validHeader(batch); valid {
			return q, true
		}
	}
	return -1, true
}
