package segment

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// OffsetForTime returns the first offset whose record has Time >= unixNano,
// or the next offset if there is none. Times need not increase with
// offsets: the answer is exact either way. It costs O(log n) in the sparse
// time index plus a scan of at most about one index interval (a quarter
// segment, at most 256 KiB), whose entries are skipped by their header's
// MaxTime unless they hold the answer.
//
// The time index is built by the first OffsetForTime or Segments call after
// OpenWAL, which reads and verifies every sealed segment file once; a
// *CorruptError from that pass is returned (and the pass retried by the next
// call).
//
// A WAL its Budget released is reopened only if the answer needs an entry
// read: not for a time past every record, nor for an empty WAL.
func (w *WAL) OffsetForTime(unixNano int64) (int64, error) {
	w.use(true)
	defer w.unuse()
	if err := w.ensureIndex(); err != nil {
		return 0, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	first, next := w.first.Load(), w.next.Load()
	if first == next || unixNano > w.tidx.maxAll() {
		return next, nil
	}
	loc := entryLoc{index: w.segs[0].index, exact: first, holds: -1}
	if m, ok := w.tidx.seek(unixNano); ok && m.offset > first {
		loc = entryLoc{index: uint64(m.loc), exact: m.offset, holds: -1}
	}
	for {
		r, ok := w.entryRefLocked(loc.index)
		if !ok {
			return next, nil
		}
		data, err := w.readLocked(r, false)
		if err != nil {
			return 0, err
		}
		h, err := DecodeHeader(data)
		if err != nil {
			return 0, r.corrupt(loc.want(), err)
		}
		if err := r.check(h, loc); err != nil {
			return 0, err
		}
		if h.MaxTime >= unixNano {
			recs, err := DecodeBatch(data) // aliases tidwall's buffer: only Time and Offset are used, under mu
			if err != nil {
				return 0, r.corrupt(h.FirstOffset, err)
			}
			for _, rec := range recs {
				if rec.Time >= unixNano {
					return rec.Offset, nil
				}
			}
		}
		end := h.FirstOffset + int64(h.Count)
		loc = entryLoc{index: r.index + 1, exact: end, holds: -1}
	}
}

// ensureIndex builds the time index and the MaxTime of every segment, once.
// Sealed segment files are read and verified without holding mu (so reads
// and appends go on); the tail and anything sealed meanwhile are then read
// through tidwall under mu, and from then on Append keeps the index.
// DropBefore waits for a build in progress (buildMu), so the files scanned
// stay in place.
func (w *WAL) ensureIndex() error {
	if w.indexReady.Load() {
		return nil
	}
	w.buildMu.Lock()
	defer w.buildMu.Unlock()
	if w.indexReady.Load() {
		return nil
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	sealed := append([]walSeg(nil), w.segs[:len(w.segs)-1]...)
	tail := w.segs[len(w.segs)-1]
	w.mu.Unlock()

	x := newTimeIndex(w.every)
	var sc sealedScanner
	maxTimes := make([]int64, len(sealed))
	for k, s := range sealed {
		endIndex, endOffset := tail.index, tail.offset
		if k+1 < len(sealed) {
			endIndex, endOffset = sealed[k+1].index, sealed[k+1].offset
		}
		mt, err := sc.scan(w.segPath(s.index), s, endIndex, endOffset, x)
		if err != nil {
			return err
		}
		maxTimes[k] = mt
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	for k := range sealed {
		w.segs[k].maxTime = maxTimes[k]
	}
	// The rest is in tidwall's memory (the tail) or was sealed since the
	// snapshot, and Append cannot run while mu is held.
	exact := tail.offset
	for i := tail.index; i <= w.lastIndex; i++ {
		r, _ := w.entryRefLocked(i)
		h, size, err := w.headerLocked(r)
		if err != nil {
			return err
		}
		if h.FirstOffset != exact {
			return r.check(h, entryLoc{exact: exact, holds: -1})
		}
		k := w.segIndexLocked(i)
		if r.segStart {
			w.segs[k].maxTime = math.MinInt64
		}
		w.segs[k].maxTime = max(w.segs[k].maxTime, h.MaxTime)
		x.add(h.FirstOffset, int64(i), size, h.MaxTime, r.segStart)
		exact = h.FirstOffset + int64(h.Count)
	}
	w.tidx = x
	w.indexReady.Store(true)
	return nil
}

// segIndexLocked returns the position in w.segs of the segment holding wal
// index i.
func (w *WAL) segIndexLocked(i uint64) int {
	lo, hi := 0, len(w.segs)
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if w.segs[mid].index <= i {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// sealedScanner verifies sealed segment files, reusing its buffers from one
// file to the next.
type sealedScanner struct {
	br  *bufio.Reader
	buf []byte // the current entry; as large as the largest entry so far
}

// scan reads a sealed segment file from start to end, checking that it
// holds exactly the entries [s.index, endIndex) with the offsets
// [s.offset, endOffset) in order and nothing else, adds its batches to x and
// returns the largest record Time in it. It streams the file: memory is one
// 64 KiB read buffer and one entry.
func (sc *sealedScanner) scan(path string, s walSeg, endIndex uint64, endOffset int64, x *timeIndex) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("segment: verify sealed segment: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("segment: verify sealed segment: %w", err)
	}
	size := fi.Size()
	if sc.br == nil {
		sc.br = bufio.NewReaderSize(f, 64<<10)
	} else {
		sc.br.Reset(f)
	}
	br, buf := sc.br, sc.buf
	defer func() { sc.buf = buf }()
	corrupt := func(pos, off int64, err error) error {
		return &CorruptError{File: path, Pos: pos, Offset: off, Err: err}
	}
	maxTime := int64(math.MinInt64)
	pos, next, index := int64(0), s.offset, s.index
	for pos < size {
		n, nw, err := readUvarint(br)
		if err != nil {
			return 0, corrupt(pos, next, fmt.Errorf("entry length: %w", err))
		}
		if n > uint64(size-pos-nw) {
			return 0, corrupt(pos, next, fmt.Errorf("entry of %d bytes overruns the file: %w", n, ErrCorrupt))
		}
		if uint64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			// The file is shorter than Stat said: it changed under us.
			return 0, corrupt(pos, next, fmt.Errorf("entry of %d bytes: %v: %w", n, err, ErrCorrupt))
		}
		h, err := DecodeHeader(buf)
		if err != nil {
			return 0, corrupt(pos, next, err)
		}
		switch {
		case index >= endIndex:
			return 0, corrupt(pos, next, fmt.Errorf("more entries than the next file's name implies (%d): %w", endIndex-s.index, ErrCorrupt))
		case h.FirstOffset != next:
			return 0, corrupt(pos, next, fmt.Errorf("wal entry %d holds offsets from %d, want %d: misplaced entry: %w", index, h.FirstOffset, next, ErrCorrupt))
		}
		x.add(h.FirstOffset, int64(index), nw+int64(n), h.MaxTime, index == s.index)
		maxTime = max(maxTime, h.MaxTime)
		next = h.FirstOffset + int64(h.Count)
		pos += nw + int64(n)
		index++
	}
	switch {
	case index != endIndex:
		return 0, corrupt(pos, next, fmt.Errorf("%d entries, the next file's name implies %d: %w", index-s.index, endIndex-s.index, ErrCorrupt))
	case next != endOffset:
		return 0, corrupt(pos, next, fmt.Errorf("ends at offset %d, the next file starts at %d: %w", next, endOffset, ErrCorrupt))
	}
	return maxTime, nil
}

// readUvarint reads tidwall's entry length prefix: a minimal uvarint. It
// returns the value and its length; every error wraps ErrCorrupt.
func readUvarint(br *bufio.Reader) (v uint64, n int64, err error) {
	var buf [binary.MaxVarintLen64]byte
	for n < int64(len(buf)) {
		b, err := br.ReadByte()
		if err != nil {
			return 0, n, fmt.Errorf("truncated at the end of the file: %w", ErrCorrupt)
		}
		buf[n] = b
		n++
		if b < 0x80 {
			break
		}
	}
	v, m := binary.Uvarint(buf[:n])
	if m <= 0 || int64(uvarintLen(v)) != n {
		return 0, n, fmt.Errorf("not a minimal 64-bit uvarint: %w", ErrCorrupt)
	}
	return v, n, nil
}
