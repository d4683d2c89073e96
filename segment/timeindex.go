package segment

import (
	"math"

	"github.com/google/btree"
)

// timeMark is one point of the sparse time index: a batch boundary where a
// scan for a time may start.
type timeMark struct {
	// maxBefore is the largest Time of any record below offset
	// (math.MinInt64 if there is none). It never decreases along the log,
	// which is what makes the index exact for times that are not monotonic:
	// if maxBefore < t, no record below offset has Time >= t, so a search
	// for t may skip everything below offset.
	maxBefore int64
	offset    int64 // offset of the first record of a batch
	loc       int64 // where that batch is, in the store's terms (WAL: its wal index)
	// maxIn is the largest Time of the records in [offset, next mark's
	// offset), set once the next mark exists. DropBefore uses it to
	// recompute maxBefore without the dropped records.
	maxIn int64
}

// markLess orders marks by (maxBefore, offset). Marks are added with
// increasing offsets and non-decreasing maxBefore, so this is also their
// order along the log; leading with maxBefore lets one btree descent find
// the last mark with maxBefore < t.
func markLess(a, b timeMark) bool {
	if a.maxBefore != b.maxBefore {
		return a.maxBefore < b.maxBefore
	}
	return a.offset < b.offset
}

// timeIndex is the sparse time index of a store (Kafka keeps a max-time-so-far
// index for the same reason): a google/btree of marks, one at each segment
// start and about one every `every` bytes appended. OffsetForTime finds the
// last mark whose maxBefore is below t in O(log marks) and scans forward
// from it; by construction the answer lies before the following mark, so the
// scan reads at most about `every` bytes.
//
// Memory: about 40 bytes per mark (the mark plus its share of btree nodes),
// that is (log bytes / every + segments) × 40 bytes. With the defaults (1 MiB
// segments, a mark every 256 KiB) that is about 200 bytes per MiB of log,
// 0.02% of the data.
//
// A timeIndex is not safe for concurrent use: its owner guards it (the btree
// allows concurrent reads, but add and dropBefore write).
type timeIndex struct {
	marks     *btree.BTreeG[timeMark]
	every     int64 // bytes between marks
	last      timeMark
	hasLast   bool  // last holds the newest mark (also in marks, with maxIn unset)
	lastMaxIn int64 // largest Time since the newest mark
	maxTime   int64 // largest Time of every record added, math.MinInt64 if none
	since     int64 // bytes added since the newest mark
}

// newTimeIndex returns an empty index that places a mark about every
// `every` bytes.
func newTimeIndex(every int64) *timeIndex {
	return &timeIndex{
		marks:     btree.NewG(32, markLess),
		every:     max(every, 1),
		lastMaxIn: math.MinInt64,
		maxTime:   math.MinInt64,
	}
}

// add records a batch of size bytes holding records from offset on, whose
// largest Time is maxTime, stored at loc. Batches must be added in offset
// order. segStart forces a mark at offset, as each segment start needs one
// (DropBefore cuts there).
func (x *timeIndex) add(offset, loc, size, maxTime int64, segStart bool) {
	if segStart || !x.hasLast || x.since >= x.every {
		if x.hasLast {
			// The previous newest mark is complete: store its maxIn.
			done := x.last
			done.maxIn = x.lastMaxIn
			x.marks.ReplaceOrInsert(done)
		}
		x.last = timeMark{maxBefore: x.maxTime, offset: offset, loc: loc, maxIn: math.MinInt64}
		x.hasLast = true
		x.marks.ReplaceOrInsert(x.last)
		x.lastMaxIn, x.since = math.MinInt64, 0
	}
	x.lastMaxIn = max(x.lastMaxIn, maxTime)
	x.maxTime = max(x.maxTime, maxTime)
	x.since += size
}

// seek returns the mark a search for the first record with Time >= t starts
// from: the last mark with maxBefore < t. No record below it qualifies, and
// one at or after it does before the next mark, if any record does. ok is
// false if every mark has maxBefore >= t: then the search starts at the
// store's first record.
func (x *timeIndex) seek(t int64) (m timeMark, ok bool) {
	if t == math.MinInt64 {
		return timeMark{}, false // no maxBefore is below it
	}
	// The greatest mark <= (t-1, MaxInt64) is the last with maxBefore < t.
	x.marks.DescendLessOrEqual(timeMark{maxBefore: t - 1, offset: math.MaxInt64}, func(item timeMark) bool {
		m, ok = item, true
		return false
	})
	return m, ok
}

// maxAll is the largest Time of every record added, math.MinInt64 if none:
// OffsetForTime answers "next" at once for t above it.
func (x *timeIndex) maxAll() int64 { return x.maxTime }

// dropBefore removes the marks below offset, which must be a mark (a
// segment start), and recomputes maxBefore of the others from the records
// that remain, so the scan bound of seek still holds.
func (x *timeIndex) dropBefore(offset int64) {
	var keep []timeMark
	x.marks.Ascend(func(m timeMark) bool {
		if m.offset >= offset {
			keep = append(keep, m)
		}
		return true
	})
	x.marks.Clear(false)
	running := int64(math.MinInt64)
	for i := range keep {
		keep[i].maxBefore = running
		if x.hasLast && keep[i].offset == x.last.offset {
			x.last = keep[i]
			running = max(running, x.lastMaxIn)
		} else {
			running = max(running, keep[i].maxIn)
		}
		x.marks.ReplaceOrInsert(keep[i])
	}
	if len(keep) == 0 {
		x.hasLast, x.lastMaxIn, x.since = false, math.MinInt64, 0
	}
	x.maxTime = running
}

// len is the number of marks.
func (x *timeIndex) len() int { return x.marks.Len() }
