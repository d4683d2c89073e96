package segment

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
)

// MemOptions configures a Mem. The zero value means all defaults.
type MemOptions struct {
	// SegmentSize is the target size of one segment, counted in the bytes
	// a WAL would store (encoded batches with their framing). A Mem given
	// the same appends as a WAL with the same SegmentSize has the same
	// segments, so retention by size behaves alike. Zero or negative means
	// 1 MiB.
	SegmentSize int64
}

// Mem is a store that keeps its records in memory: the storage of InMemory
// logs, for tests. It has the same method set and behaviour as *WAL, except
// that nothing survives Close and Sync has nothing to do.
//
// Memory: every record stays resident until DropBefore or Close, at about
// its key, value and header bytes plus 88 bytes for the Record and 40 bytes
// per header, plus the sparse time index (see OffsetForTime).
//
// All methods are safe for concurrent use; see the package documentation.
type Mem struct {
	segmentSize int64

	mu      sync.RWMutex // guards the fields below
	segs    []*memSeg    // oldest first; never one without records
	first   int64        // offset of the first record held
	next    int64        // offset of the next Append
	tidx    *timeIndex
	scratch []byte // Append's encoding buffer
	closed  bool
}

// memSeg is one segment of a Mem. Its records are never changed once
// appended; readers copy what they return.
type memSeg struct {
	first   int64    // offset of recs[0]
	recs    []Record // copies owned by the Mem
	bytes   int64    // as a WAL would store them
	maxTime int64
}

// NewMem returns an empty Mem whose next offset is 0.
func NewMem(opts MemOptions) *Mem {
	size := opts.SegmentSize
	if size <= 0 {
		size = defaultSegmentSize
	}
	return &Mem{segmentSize: size, tidx: newTimeIndex(markEvery(size))}
}

// Append adds batch to the store. batch must be non-empty, batch[0].Offset
// must be the next offset (see Bounds) and the offsets must be contiguous;
// otherwise nothing changes and Append returns an error. Append copies the
// records: the caller may reuse batch and its slices afterwards.
func (m *Mem) Append(batch []Record) error {
	recs := cloneRecords(batch) // before locking: readers need not wait for it
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if err := checkBatch(recs, m.next); err != nil {
		return err
	}
	return splitBatch(recs, func(run []Record, _ int) error {
		// Encode to learn the exact size a WAL would store, so segments
		// fill at the same records as a WAL's.
		m.scratch = AppendBatch(m.scratch[:0], run)
		bytes := int64(uvarintLen(uint64(len(m.scratch))) + len(m.scratch)) // as tidwall frames an entry
		if cap(m.scratch) > 2*maxEntryBytes {
			m.scratch = nil
		}
		segStart := false
		if len(m.segs) == 0 || m.segs[len(m.segs)-1].bytes >= m.segmentSize {
			m.segs = append(m.segs, &memSeg{first: run[0].Offset, maxTime: math.MinInt64})
			segStart = true
		}
		tail := m.segs[len(m.segs)-1]
		runMax := int64(math.MinInt64)
		for i := range run {
			runMax = max(runMax, run[i].Time)
		}
		tail.recs = append(tail.recs, run...)
		tail.bytes += bytes
		tail.maxTime = max(tail.maxTime, runMax)
		m.tidx.add(run[0].Offset, 0, bytes, runMax, segStart)
		m.next = run[len(run)-1].Offset + 1
		return nil
	})
}

// Sync does nothing: a Mem keeps nothing durable. After Close it returns
// ErrClosed.
func (m *Mem) Sync() error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	return nil
}

// ReadFrom returns the records from offset off on: as many whole records as
// fit in maxBytes of EncodedSize, but always at least one. off must be in
// [first, next) (see Bounds); otherwise the error wraps ErrOutOfRange. The
// records are copies the caller owns.
func (m *Mem) ReadFrom(off int64, maxBytes int) ([]Record, error) {
	return m.ReadAppend(nil, off, maxBytes)
}

// ReadAppend is ReadFrom appending to dst, as WAL.ReadAppend.
func (m *Mem) ReadAppend(dst []Record, off int64, maxBytes int) ([]Record, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return dst, ErrClosed
	}
	if off < m.first || off >= m.next {
		return dst, outOfRange(off, m.first, m.next)
	}
	var out []Record
	budget := maxBytes
	for si := m.segIndexLocked(off); si < len(m.segs); si++ {
		s := m.segs[si]
		for _, r := range s.recs[off-s.first:] {
			n := EncodedSize(r)
			if len(out) > 0 && n > budget {
				return appendClones(dst, out), nil
			}
			out = append(out, r)
			budget -= n
		}
		off = s.first + int64(len(s.recs))
	}
	return appendClones(dst, out), nil
}

// Bounds returns the offset of the first record held and the offset the
// next Append must start at. first == next when the store holds nothing.
func (m *Mem) Bounds() (first, next int64) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.first, m.next
}

// OffsetForTime returns the first offset whose record has Time >= unixNano,
// or the next offset if there is none. Times need not increase with
// offsets: the answer is exact either way. It costs O(log n) in the sparse
// time index plus a scan of at most about one index interval (a quarter
// segment, at most 256 KiB of records).
func (m *Mem) OffsetForTime(unixNano int64) (int64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, ErrClosed
	}
	if m.first == m.next || unixNano > m.tidx.maxAll() {
		return m.next, nil
	}
	off := m.first
	if mark, ok := m.tidx.seek(unixNano); ok {
		off = max(off, mark.offset)
	}
	for si := m.segIndexLocked(off); si < len(m.segs); si++ {
		s := m.segs[si]
		for _, r := range s.recs[off-s.first:] {
			if r.Time >= unixNano {
				return r.Offset, nil
			}
		}
		off = s.first + int64(len(s.recs))
	}
	return m.next, nil
}

// Segments describes every segment, oldest first; the last one holds the
// newest record. An empty store has none.
func (m *Mem) Segments() ([]Info, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	infos := make([]Info, len(m.segs))
	for i, s := range m.segs {
		infos[i] = Info{
			FirstOffset: s.first,
			NextOffset:  s.first + int64(len(s.recs)),
			Bytes:       s.bytes,
			MaxTime:     s.maxTime,
		}
	}
	return infos, nil
}

// DiskUsage returns how many segments hold records and their total size
// in bytes (what they would take on disk): the length of what Segments
// returns and the sum of its Bytes. After Close it returns ErrClosed.
func (m *Mem) DiskUsage() (segments int, bytes int64, err error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, 0, ErrClosed
	}
	for _, s := range m.segs {
		bytes += s.bytes
	}
	return len(m.segs), bytes, nil
}

// DropBefore removes every segment whose records all lie below off. off
// must be the FirstOffset of a segment (see Segments), and not past the one
// holding the newest record, so the store never becomes empty and its
// offsets continue; otherwise DropBefore returns an error and changes
// nothing. off equal to the first offset does nothing.
func (m *Mem) DropBefore(off int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if off == m.first {
		return nil
	}
	if len(m.segs) == 0 || off < m.first || off > m.segs[len(m.segs)-1].first {
		return dropRangeErr(off, m.first, m.next)
	}
	k := m.segIndexLocked(off)
	if m.segs[k].first != off {
		return dropBoundaryErr(off, m.segs[k].first, m.segs[k+1].first)
	}
	m.segs = slices.Clone(m.segs[k:])
	m.first = off
	m.tidx.dropBefore(off)
	return nil
}

// Close releases the records. Later calls of any method but Bounds return
// ErrClosed, and so does a second Close.
func (m *Mem) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.closed = true
	m.segs, m.tidx = nil, nil
	return nil
}

// segIndexLocked returns the index in m.segs of the segment holding off,
// which must be in [first, next).
func (m *Mem) segIndexLocked(off int64) int {
	return sort.Search(len(m.segs), func(i int) bool { return m.segs[i].first > off }) - 1
}

// dropRangeErr is DropBefore's error for an offset outside the range it
// accepts.
func dropRangeErr(off, first, next int64) error {
	return fmt.Errorf("segment: drop before offset %d: not in [%d, start of the newest segment] (next %d): %w", off, first, next, ErrOutOfRange)
}

// dropBoundaryErr is DropBefore's error for an offset inside a segment.
func dropBoundaryErr(off, segFirst, segNext int64) error {
	return fmt.Errorf("segment: drop before offset %d: not a segment boundary (its segment holds [%d, %d))", off, segFirst, segNext)
}

// cloneRecords returns a deep copy of recs in three allocations: the
// records, one array for every header, and one for every key and value
// byte. Nil and empty keys and values stay apart; a record without headers
// gets nil Headers, as DecodeBatch returns it. Header keys are immutable
// strings and are shared.
func cloneRecords(recs []Record) []Record {
	if len(recs) == 0 {
		return nil
	}
	return appendClones(make([]Record, 0, len(recs)), recs)
}
