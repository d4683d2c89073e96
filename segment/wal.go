package segment

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/tidwall/wal"
)

// WALOptions configures a WAL. The zero value means all defaults.
//
// Memory: tidwall/wal holds the tail segment file whole in memory, keeps the
// segment it has just sealed in its read cache, and loads sealed segments
// whole to read them. The resident memory of one open WAL is therefore about
//
//	  SegmentSize                  the tail (a growing buffer: its capacity reaches about 1.25 × SegmentSize)
//	+ CacheSegments × SegmentSize  sealed segments cached for reads, starting with the one just sealed
//	+ the sparse time index        about 200 bytes per MiB of log (see OffsetForTime)
//	+ about 2 × the last Append    its encoding and tidwall's copy, kept for reuse up to 2 MiB each
//	+ up to 4 decoded entries      shared by readers that read entries in parts (sharedEntry): about
//	                               twice the entry each, at most about 2 MiB; none for whole-entry reads
//
// With the defaults that is 2 to 4 MiB per open partition plus the index,
// and up to about 8 MiB more while readers take its entries in parts;
// an open log of P partitions needs P times that, unless they share a Budget
// (WALOptions.Budget), which bounds the first two lines across all of them.
// Records returned by ReadFrom are copies owned by the caller and are not
// counted here. A Budget counts the tail, the cached segments and the
// decoded entries.
type WALOptions struct {
	// SegmentSize is the target size of one segment file in bytes: once the
	// tail reaches it, the next entry starts a new file. Files can exceed it
	// by one entry (at most about 1 MiB plus one record). Zero means 1 MiB.
	SegmentSize int64

	// CacheSegments is how many sealed segments tidwall/wal keeps in memory
	// for reads, each up to SegmentSize. Zero means 1.
	CacheSegments int

	// Logger receives warnings, such as a torn tail cut off at open.
	// Nil discards them.
	Logger *slog.Logger

	// Budget, if not nil, bounds the tidwall/wal memory of every WAL that
	// shares it: when over, idle WALs close their *wal.Log until used again
	// (see Budget). Nil means no bound: the WAL keeps its *wal.Log open until
	// Close.
	Budget *Budget

	// Preallocate fills the tail segment file with zeros up to SegmentSize
	// ahead of the records, so that a Sync after an append does not change
	// the file's size and needs no metadata journal commit: on ext4 that
	// halves the time of a small append's fsync. It costs a write of
	// zeros per segment. The zeros are cut off when the WAL is closed or
	// released; after a crash, OpenWAL cuts them like any zero-filled tail.
	// Worth it when Sync is called after most Appends.
	Preallocate bool
}

// withDefaults returns a copy of o with zero fields replaced by their
// defaults, or an error for a setting that cannot work.
func (o WALOptions) withDefaults() (WALOptions, error) {
	switch {
	case o.SegmentSize < 0:
		return o, fmt.Errorf("segment: negative SegmentSize %d", o.SegmentSize)
	case o.SegmentSize > math.MaxInt32:
		return o, fmt.Errorf("segment: SegmentSize %d over 2 GiB", o.SegmentSize)
	case o.CacheSegments < 0:
		return o, fmt.Errorf("segment: negative CacheSegments %d", o.CacheSegments)
	}
	if o.SegmentSize == 0 {
		o.SegmentSize = defaultSegmentSize
	}
	if o.CacheSegments == 0 {
		o.CacheSegments = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// walHooks let this package's tests inject faults. Nil fields mean the real
// operation.
type walHooks struct {
	syncFile func(*os.File) error // fsync of the tail file
	syncDir  func(dir string) error
}

// WAL is a store kept in segment files in one directory, on
// github.com/tidwall/wal. Each wal entry holds one batch of records
// (AppendBatch); its wal index and record offsets are related through an
// in-memory table with one row per segment file.
//
// Durability: Append writes to the file but does not fsync; Sync makes
// every appended record durable. A write or fsync error fences the WAL: every
// later Append, Sync and DropBefore returns that error, wrapped, until the
// WAL is closed and reopened (which cuts back whatever partial write the
// failure left). Reads keep working, except after a WAL released by its
// Budget failed to reopen (its files changed under it): that error is
// sticky too, and returned by every method that needs data.
//
// See WALOptions for the memory a WAL holds. All methods are safe for
// concurrent use; see the package documentation. Call Close when done.
type WAL struct {
	dir   string
	opts  WALOptions
	hooks walHooks
	every int64 // time-index mark spacing

	// first and next mirror the bounds for Bounds, which takes no lock.
	// They change under mu.
	first, next atomic.Int64

	// Lock order: appendMu, then syncMu, then buildMu, then mu, then
	// Budget.mu; see budget.go for why releasing by the Budget cannot
	// deadlock with it.
	appendMu sync.Mutex // serializes Append

	syncMu sync.Mutex // serializes Sync and Close; held across the fsync, when mu is not

	buildMu    sync.Mutex  // serializes the time-index build and DropBefore
	indexReady atomic.Bool // tidx is built; set under mu

	mu             sync.Mutex // guards the fields below and every call into log
	log            *wal.Log   // tidwall's Read is not safe for concurrent use (upstream issue 34)
	segs           []walSeg   // one per segment file, oldest first; the last is the tail
	lastIndex      uint64     // wal index of the newest entry; segs[0].index-1 if none
	tailBytes      int64      // size of the tail file, mirroring tidwall's tail buffer
	tailFile       *os.File   // our handle on the tail file, for Sync
	tailSize       int64      // the tail file's size: tailBytes, or more once preallocated
	preallocOff    bool       // preallocation failed once; not tried again
	tailSyncs      int        // Syncs of the current tail file
	readSinceCycle bool       // a read went through tidwall since the tail last filled
	syncing        *os.File   // the handle a Sync is fsyncing outside mu, or nil
	retired        []*os.File // earlier tail handles a Sync was using, closed by the next Sync
	created        uint64     // segment files created or renamed since open
	dirSynced      uint64     // value of created at the last directory fsync
	synced         uint64     // lastIndex at the last tail fsync
	hints          [32]entryHint
	hintNext       int
	tidx           *timeIndex // nil until built (see ensureIndex)
	failed         error      // sticky write, fsync or reopen error
	closed         bool
	// With a Budget, log is nil while the WAL is released; see budget.go.
	resident int64       // bytes accounted to the Budget
	cache    []cachedSeg // mirror of tidwall's read cache, most recent first

	// Entries decoded once for every reader (see sharedEntry), guarded by
	// mu; sharedAt is the slot addSharedLocked tries first.
	shared   [sharedEntries]*sharedEntry
	sharedAt int

	// Budget bookkeeping, unused without one (see budget.go).
	inUse   atomic.Int32  // operations in progress (use/unuse)
	lastUse atomic.Uint64 // Budget tick of the latest touching operation
	slot    int           // index in Budget.loaded, or -1; guarded by Budget.mu
	tried   uint64        // Budget.pass of the last try to release; guarded by Budget.mu
}

// walSeg is one row of the segment table: a segment file.
type walSeg struct {
	index   uint64 // wal index of its first entry; the file is named after it
	offset  int64  // offset of its first record (the next offset, for an empty tail)
	bytes   int64  // file size; for the tail, see WAL.tailBytes
	maxTime int64  // largest record Time; valid once the time index is built
}

// entryHint remembers where a recently read entry was, so that sequential
// reads locate the next one in O(1).
type entryHint struct {
	index      uint64
	first, end int64 // offsets [first, end) it holds; end == 0 means unused
}

// segmentName is the file name tidwall/wal gives the segment starting at
// wal index i.
func segmentName(i uint64) string { return fmt.Sprintf("%020d", i) }

// segPath returns the path of the segment file starting at wal index i.
func (w *WAL) segPath(i uint64) string { return filepath.Join(w.dir, segmentName(i)) }

// Append writes batch to the tail segment. batch must be non-empty,
// batch[0].Offset must be the next offset (see Bounds) and the offsets must
// be contiguous; otherwise nothing changes and Append returns an error.
// Records are split into wal entries of about 1 MiB at most and written with
// one write call per segment file touched; nothing is durable until Sync.
// Append does not keep batch or its slices.
//
// After a failed write the WAL is fenced: this and every later Append and
// Sync return the error (errors.Is works for syscall errors such as
// syscall.ENOSPC).
func (w *WAL) Append(batch []Record) error {
	w.use(true)
	defer w.unuse() // after the unlocks below
	w.appendMu.Lock()
	defer w.appendMu.Unlock()
	// Only Append changes next, and appendMu is held: check and encode
	// before taking mu, so readers do not wait for the encoding.
	if err := checkBatch(batch, w.next.Load()); err != nil {
		return err
	}
	sc := scratchPool.Get().(*appendScratch)
	defer sc.release()
	_ = splitBatch(batch, func(run []Record, _ int) error {
		sc.enc = AppendBatch(sc.enc, run)
		h := BatchHeader{FirstOffset: run[0].Offset, Count: len(run), MaxTime: run[0].Time}
		for i := range run {
			h.MaxTime = max(h.MaxTime, run[i].Time)
		}
		sc.entries = append(sc.entries, h)
		sc.ends = append(sc.ends, len(sc.enc))
		return nil
	})

	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usableLocked(); err != nil {
		return err
	}
	if err := w.ensureOpenLocked(); err != nil {
		return err
	}
	start := 0
	for i, end := range sc.ends {
		sc.batch.Write(w.lastIndex+1+uint64(i), sc.enc[start:end])
		start = end
	}
	if err := w.log.WriteBatch(&sc.batch); err != nil {
		return w.failLocked(fmt.Errorf("write offsets [%d, %d): %w", batch[0].Offset, batch[0].Offset+int64(len(batch)), err))
	}
	start = 0
	cycled := false
	for i, h := range sc.entries {
		size := int64(sc.ends[i] - start)
		start = sc.ends[i]
		cycled = w.addEntryLocked(h, int64(uvarintLen(uint64(size)))+size) || cycled
	}
	if cycled {
		w.dropWriteCacheLocked()
	}
	w.accountLocked()
	if cycled {
		if err := w.reopenTailLocked(); err != nil {
			return w.failLocked(err)
		}
	}
	w.preallocateLocked()
	return nil
}

// addEntryLocked updates the segment table, bounds and time index for an
// entry of framed bytes just written at w.lastIndex+1. It mirrors the cycle
// rule of tidwall's writeBatch exactly (wal.go: a tail over SegmentSize
// cycles before the next entry, one that reaches it cycles after the entry
// that made it so) and reports whether a new segment file was created.
func (w *WAL) addEntryLocked(h BatchHeader, framed int64) (cycled bool) {
	size := w.opts.SegmentSize
	if w.tailBytes > size {
		w.cycleLocked(w.lastIndex+1, h.FirstOffset)
		cycled = true
	}
	w.lastIndex++
	tail := &w.segs[len(w.segs)-1]
	segStart := w.lastIndex == tail.index
	w.tailBytes += framed
	tail.maxTime = max(tail.maxTime, h.MaxTime)
	if w.tidx != nil {
		w.tidx.add(h.FirstOffset, int64(w.lastIndex), framed, h.MaxTime, segStart)
	}
	end := h.FirstOffset + int64(h.Count)
	w.next.Store(end)
	if w.tailBytes >= size {
		w.cycleLocked(w.lastIndex+1, end)
		cycled = true
	}
	return cycled
}

// cycleLocked seals the tail and starts an empty one at wal index i and
// offset off, as tidwall's cycle has just done on disk.
func (w *WAL) cycleLocked(i uint64, off int64) {
	w.segs[len(w.segs)-1].bytes = w.tailBytes
	w.cacheTouchLocked(w.segs[len(w.segs)-1].index, w.tailBytes) // tidwall caches the sealed tail
	w.segs = append(w.segs, walSeg{index: i, offset: off, maxTime: math.MinInt64})
	w.tailBytes = 0
	w.created++
}

// reopenTailLocked points tailFile at the current tail file, which tidwall
// has just created or replaced, and checks that the file is where and as
// large as the segment table says. The old handle is closed at once,
// unless a Sync in progress is fsyncing it: then it is retired, for the
// next Sync (or Close) to close.
func (w *WAL) reopenTailLocked() error {
	tail := w.segs[len(w.segs)-1]
	f, err := os.OpenFile(w.segPath(tail.index), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("segment: open the new tail segment: %w", err)
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() != w.tailBytes {
		err = fmt.Errorf("segment: tail segment %s has %d bytes, the segment table says %d", f.Name(), fi.Size(), w.tailBytes)
	}
	if err != nil {
		f.Close()
		return err
	}
	// Closing the old handle loses nothing: tidwall fsynced a sealed tail
	// when it cycled, and DropBefore's rewrite of the tail went to a
	// .START file tidwall fsynced. It must not wait for a Sync: under
	// SyncNever none ever comes, and one handle kept per segment file
	// would run the process out of file descriptors.
	switch old := w.tailFile; {
	case old == nil:
	case old == w.syncing:
		w.retired = append(w.retired, old)
	default:
		_ = old.Close() // it is only ever fsynced, and that is done
	}
	w.tailFile = f
	w.tailSize = w.tailBytes
	w.tailSyncs = 0
	return nil
}

// dropWriteCacheLocked empties tidwall's segment cache after the tail
// filled, unless something read through tidwall since the last time: when
// a tail fills, tidwall keeps it in its cache, which serves readers tailing
// the partition but is dead weight for one only written to (a segment per
// partition, 16 MiB for 16 partitions with 1 MiB segments).
func (w *WAL) dropWriteCacheLocked() {
	read := w.readSinceCycle
	w.readSinceCycle = false
	if read || len(w.cache) == 0 {
		return
	}
	if err := w.log.ClearCache(); err != nil {
		return // tidwall refuses only when closed or corrupt; the cache stays as it was
	}
	w.cache = w.cache[:0]
}

// appendScratch is the memory one Append works in: the encoded batches,
// their wal entries, and the wal.Batch tidwall copies them from. Appends
// take one from scratchPool and put it back, so a Log keeps about one per
// Append running at a time rather than one per partition: a partition
// that has stopped writing holds none, and the pool's leftovers are freed
// by the garbage collector.
type appendScratch struct {
	enc     []byte
	ends    []int
	entries []BatchHeader
	batch   wal.Batch
}

var scratchPool = sync.Pool{New: func() any { return new(appendScratch) }}

// release empties sc and returns it to scratchPool, unless an unusually
// large Append grew it: then it is left to the garbage collector, so one
// burst does not keep its size alive.
func (sc *appendScratch) release() {
	if cap(sc.enc) > 2*maxEntryBytes {
		return
	}
	sc.enc = sc.enc[:0]
	sc.ends = sc.ends[:0]
	sc.entries = sc.entries[:0]
	sc.batch.Clear()
	scratchPool.Put(sc)
}

// Bounds returns the offset of the first record held and the offset the
// next Append must start at. first == next when the store holds nothing. It
// takes no lock.
func (w *WAL) Bounds() (first, next int64) {
	return w.first.Load(), w.next.Load()
}

// Close syncs the tail (unless the WAL is fenced) and closes every file.
// Later calls of any method but Bounds return ErrClosed, and so does a
// second Close. A fenced WAL's Close returns the fencing error.
func (w *WAL) Close() error {
	w.appendMu.Lock()
	defer w.appendMu.Unlock()
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	w.unregisterLocked()
	w.clearSharedLocked()
	err := w.failed
	switch {
	case err == nil:
		// tidwall's Close fsyncs the tail before closing it; a released WAL
		// has no *wal.Log, and its release fsynced the tail.
		if w.log != nil {
			err = w.trimPreallocLocked()
			if cerr := w.log.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("segment: close %s: %w", w.dir, cerr)
			}
		}
		if err == nil && w.created != w.dirSynced {
			err = w.syncDir()
		}
	case w.log != nil:
		// The fsync inside tidwall's Close would be a retry, which proves
		// nothing after a failure: its result is ignored.
		_ = w.log.Close()
	}
	w.log = nil
	for _, f := range append(w.retired, w.tailFile) {
		if f != nil {
			err = errors.Join(err, f.Close())
		}
	}
	w.retired, w.tailFile, w.tidx, w.segs = nil, nil, nil, nil
	return err
}
