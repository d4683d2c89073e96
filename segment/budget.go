package segment

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tidwall/wal"
)

// Budget bounds the memory that tidwall/wal holds for a set of WALs: the
// tail segment each open *wal.Log keeps whole in memory, plus the sealed
// segments it caches for reads (see WALOptions). Give the same Budget to
// every WAL of a process (WALOptions.Budget); a nil Budget means no bound.
//
// When the bytes held exceed the budget, the least recently used idle WALs
// are released: each closes its *wal.Log (which fsyncs its tail, so a
// release only makes records more durable) and its tail file, and keeps
// only its own small tables in memory (bounds, segment table, time index).
// The next operation that needs data (Append, ReadFrom, DropBefore,
// OffsetForTime past the index, or the first time-index build) reopens it
// transparently, at the cost of reading its tail file; Bounds, Sync and
// Segments never reopen a WAL. OpenWAL leaves a WAL with a Budget released,
// so opening many WALs loads none: an idle WAL costs only its tables.
//
// A WAL with an operation in progress is never
// released, so the budget is exceeded by at most the tails of the WALs in use
// at the same moment (and by a released WAL's memory until the garbage
// collector frees it).
//
// The hot path takes no lock of the Budget: an operation stamps its WAL with
// a tick from one atomic counter and adds its change in resident bytes to
// one atomic total. Only when the total is over the budget does the
// operation, after releasing its own WAL's locks, take the Budget's mutex
// and scan the loaded WALs for the oldest idle one: O(loaded WALs) per
// release.
//
// A Budget is safe for concurrent use and needs no Close: it holds no
// goroutine and no file.
type Budget struct {
	max  int64
	used atomic.Int64  // bytes accounted by the loaded WALs (their resident)
	tick atomic.Uint64 // a logical clock for WAL.lastUse

	releases atomic.Int64 // WALs released so far, for Releases

	// mu guards loaded, pass and every WAL's slot and tried. It is the
	// innermost lock: a goroutine may take it while holding a WAL's mu, and
	// while holding it only ever TryLocks a WAL's locks (see releaseIdle).
	mu     sync.Mutex
	loaded []*WAL // the WALs holding a *wal.Log, in no order
	pass   uint64 // numbers the victim searches, for WAL.tried
}

// NewBudget returns a budget of maxBytes for the tidwall/wal memory of the
// WALs that share it. A maxBytes of zero or less keeps loaded only the WALs
// in use: every other one is released as soon as some WAL's operation ends.
func NewBudget(maxBytes int64) *Budget {
	return &Budget{max: maxBytes}
}

// Max returns the budget given to NewBudget.
func (b *Budget) Max() int64 { return b.max }

// Used returns the bytes the WALs sharing b are estimated to hold in
// tidwall/wal now: for each loaded WAL, the size of its tail file plus the
// sizes of the sealed segments in its read cache.
func (b *Budget) Used() int64 { return b.used.Load() }

// Releases returns how many times a WAL sharing b has been released since
// NewBudget (not counting the release at the end of OpenWAL). A count that
// grows about as fast as operations run means the budget is too small for
// the WALs in use: each operation then reads a tail file.
func (b *Budget) Releases() int64 { return b.releases.Load() }

// Loaded returns how many WALs sharing b hold their *wal.Log open.
func (b *Budget) Loaded() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.loaded)
}

// Lock order, and why releasing is deadlock-free:
//
//	WAL.appendMu → WAL.syncMu → WAL.buildMu → WAL.mu → Budget.mu
//
// An operation takes its WAL's locks in that order (each takes a prefix
// that suits it) and takes Budget.mu only while registering or
// unregistering its WAL, under WAL.mu, never waiting for anything else while
// holding it. Releasing runs in releaseIdle after the operation has dropped
// all its WAL's locks (use/unuse bracket the locking): it takes Budget.mu,
// then only TryLocks a victim's syncMu and mu, skipping the victim if either
// is busy. A goroutine that holds Budget.mu therefore never waits for a WAL
// lock, so no cycle can form, even when two WALs release each other at the
// same time. The victim's locks are then held while its *wal.Log closes,
// with Budget.mu already dropped.
//
// Why syncMu and mu: every call into the *wal.Log happens under mu, and Sync
// fsyncs the tail handle outside mu but under syncMu. appendMu and buildMu
// guard only state that outlives a release (the encoding buffers, the
// time-index build reading sealed files), so a release need not wait for
// them: an Append encoding its batch, or an index build reading sealed
// files, finds the *wal.Log released when it takes mu and reopens it.
//
// use marks the start of an operation on w: until unuse, releaseIdle skips
// w. If touch, w also becomes the most recently used WAL. Maintenance that
// should not keep a WAL loaded (retention's DropBefore and Segments) does
// not touch. use and unuse must bracket every lock the operation takes.
func (w *WAL) use(touch bool) {
	b := w.opts.Budget
	if b == nil {
		return
	}
	w.inUse.Add(1)
	if touch {
		w.lastUse.Store(b.tick.Add(1))
	}
}

// unuse ends an operation started by use and, if the budget is exceeded,
// releases idle WALs. The caller holds none of w's locks.
func (w *WAL) unuse() {
	b := w.opts.Budget
	if b == nil {
		return
	}
	w.inUse.Add(-1)
	if b.used.Load() > b.max {
		b.releaseIdle(w)
	}
}

// releaseIdle releases the least recently used idle WALs, other than self
// (which may be nil), until b is within its budget or no WAL can be
// released. It must be called without holding any WAL lock of the caller's.
func (b *Budget) releaseIdle(self *WAL) {
	for b.used.Load() > b.max {
		v := b.takeVictim(self)
		if v == nil {
			return // every loaded WAL is in use or busy: over budget for now
		}
		v.releaseLocked()
		b.releases.Add(1)
		v.mu.Unlock()
		v.syncMu.Unlock()
	}
}

// takeVictim finds the least recently used loaded WAL that is idle and not
// self, locks its syncMu and mu without waiting, unregisters it and returns
// it with both locks held; or nil if there is none. The victim's bytes leave
// the total at once, so concurrent callers do not release more than needed.
func (b *Budget) takeVictim(self *WAL) *WAL {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pass++
	for {
		var v *WAL
		for _, c := range b.loaded {
			if c == self || c.tried == b.pass || c.inUse.Load() > 0 {
				continue
			}
			if v == nil || c.lastUse.Load() < v.lastUse.Load() {
				v = c
			}
		}
		if v == nil {
			return nil
		}
		v.tried = b.pass
		if !v.syncMu.TryLock() {
			continue
		}
		if !v.mu.TryLock() {
			v.syncMu.Unlock()
			continue
		}
		if v.closed || v.failed != nil || v.log == nil || v.inUse.Load() > 0 {
			// Fenced WALs keep their *wal.Log until Close; the others
			// cannot be here, or have just become busy.
			v.mu.Unlock()
			v.syncMu.Unlock()
			continue
		}
		b.removeLocked(v)
		b.used.Add(-v.resident)
		v.resident = 0
		return v
	}
}

// addLocked registers w as loaded. b.mu is held.
func (b *Budget) addLocked(w *WAL) {
	if w.slot >= 0 {
		return
	}
	w.slot = len(b.loaded)
	b.loaded = append(b.loaded, w)
}

// removeLocked unregisters w if it is loaded. b.mu is held.
func (b *Budget) removeLocked(w *WAL) {
	k := w.slot
	if k < 0 {
		return
	}
	last := len(b.loaded) - 1
	b.loaded[k] = b.loaded[last]
	b.loaded[k].slot = k
	b.loaded[last] = nil
	b.loaded = b.loaded[:last]
	w.slot = -1
}

// registerLocked counts w, whose *wal.Log has just been opened, as loaded.
// w.mu is held.
func (w *WAL) registerLocked() {
	b := w.opts.Budget
	if b == nil {
		return
	}
	b.mu.Lock()
	b.addLocked(w)
	b.mu.Unlock()
	// lastUse is left alone: a reopen for an operation that does not touch
	// (an index build, a retention drop) keeps the WAL's old place in the
	// order, so it is released first.
	w.accountLocked()
}

// unregisterLocked removes w and its bytes from the budget, at Close.
// w.mu is held.
func (w *WAL) unregisterLocked() {
	b := w.opts.Budget
	if b == nil {
		return
	}
	b.mu.Lock()
	b.removeLocked(w)
	b.mu.Unlock()
	b.used.Add(-w.resident)
	w.resident = 0
}

// accountLocked brings w's share of the budget up to date: the tail file
// (mirroring tidwall's tail buffer) plus the cached sealed segments plus
// the entries decoded for its readers (sharedEntry). w.mu is
// held and w is loaded.
func (w *WAL) accountLocked() {
	b := w.opts.Budget
	if b == nil || w.log == nil {
		return
	}
	n := max(w.tailBytes+w.sharedBytesLocked()+w.cacheBytesLocked(), loadedOverhead)
	if d := n - w.resident; d != 0 {
		w.resident = n
		b.used.Add(d)
	}
}

// loadedOverhead is the least a loaded WAL accounts for: tidwall's
// structures and two open files. Without it a loaded WAL whose tail just
// filled (and whose cache was dropped) would cost the Budget nothing, and
// such WALs would stay loaded, holding file handles, however many.
const loadedOverhead = 4 << 10

// cacheBytesLocked sums the cached sealed segments.
func (w *WAL) cacheBytesLocked() int64 {
	var n int64
	for _, c := range w.cache {
		n += c.bytes
	}
	return n
}

// cachedSeg is one sealed segment in tidwall's read cache.
type cachedSeg struct {
	index uint64 // wal index of its first entry
	bytes int64  // its file size: tidwall holds the file whole
}

// cacheTouchLocked mirrors tidwall's pushCache of the sealed segment that
// starts at wal index i and holds bytes: it becomes the most recently used
// cached segment, and the least recently used one beyond CacheSegments is
// dropped. It reports whether the cache changed.
//
// tidwall (wal.go loadSegment) looks only at the most recently used cached
// segment before pushing, so a hit there changes nothing and any other read
// of a sealed segment pushes it, exactly as here.
func (w *WAL) cacheTouchLocked(i uint64, bytes int64) bool {
	if len(w.cache) > 0 && w.cache[0].index == i {
		return false
	}
	c := cachedSeg{index: i, bytes: bytes}
	for k := range w.cache {
		if w.cache[k].index == i {
			copy(w.cache[1:k+1], w.cache[:k])
			w.cache[0] = c
			return true
		}
	}
	if len(w.cache) < w.opts.CacheSegments {
		w.cache = append(w.cache, cachedSeg{})
	}
	copy(w.cache[1:], w.cache)
	w.cache[0] = c
	return true
}

// noteReadLocked records a read of wal index i through tidwall: if it is in
// a sealed segment, tidwall now caches that segment.
func (w *WAL) noteReadLocked(i uint64) {
	w.readSinceCycle = true
	if w.opts.Budget == nil || i >= w.segs[len(w.segs)-1].index {
		return
	}
	k := w.segIndexLocked(i)
	if w.cacheTouchLocked(w.segs[k].index, w.segs[k].bytes) {
		w.accountLocked()
	}
}

// ensureOpenLocked reopens w's *wal.Log if the budget released it. A failed
// reopen fences w (the error is sticky, like a failed write). w.mu is held
// and w is not closed.
func (w *WAL) ensureOpenLocked() error {
	if w.log != nil {
		return nil
	}
	if w.failed != nil {
		return w.failed
	}
	if err := w.reopenLocked(); err != nil {
		return w.failLocked(fmt.Errorf("reopen after release: %w", err))
	}
	return nil
}

// reopenLocked opens the *wal.Log of a released WAL again. Only this
// package's own clean writes are in its files (the release closed them
// cleanly), so there is no repair scan, but the cheap checks are kept: the
// segment files on disk are the ones in the table, the tail has the size the
// table says, and tidwall sees the wal indexes the table says (which also
// catches a tail extended with garbage).
func (w *WAL) reopenLocked() error {
	files, err := listSegments(w.dir)
	if err != nil {
		return err
	}
	if len(files) != len(w.segs) {
		return fmt.Errorf("segment: %s holds %d segment files, the segment table says %d: files changed under the WAL", w.dir, len(files), len(w.segs))
	}
	for k, f := range files {
		if f.index != w.segs[k].index || f.path != w.segPath(f.index) {
			return fmt.Errorf("segment: %s is not the segment file the table expects (%s): files changed under the WAL", f.path, segmentName(w.segs[k].index))
		}
	}
	if tail := files[len(files)-1]; tail.size != w.tailBytes {
		return fmt.Errorf("segment: tail segment %s has %d bytes, the segment table says %d: files changed under the WAL", tail.path, tail.size, w.tailBytes)
	}
	log, err := wal.Open(w.dir, w.walOptions())
	if err != nil {
		return fmt.Errorf("segment: open wal in %s: %w", w.dir, err)
	}
	w.log = log
	err = w.checkIndexesLocked()
	if err == nil {
		err = w.reopenTailLocked()
	}
	if err != nil {
		_ = log.Close()
		w.log = nil
		return err
	}
	w.cache = w.cache[:0]
	w.registerLocked()
	return nil
}

// releaseLocked closes the *wal.Log and the tail handles of w, which
// takeVictim has unregistered. w.syncMu and w.mu are held, so no Sync is
// using the handles.
//
// tidwall's Close fsyncs the tail, which makes every record appended so far
// durable. If that fsync fails, the records appended since the last Sync
// may be lost, so w is fenced as after a failed Sync, and keeps its
// *wal.Log for Close.
func (w *WAL) releaseLocked() {
	if err := w.trimPreallocLocked(); err != nil {
		w.failLocked(fmt.Errorf("release: %w", err))
		return
	}
	if err := w.log.Close(); err != nil {
		w.failLocked(fmt.Errorf("release: close the wal: %w", err))
		return
	}
	w.log = nil
	w.cache = w.cache[:0]
	w.clearSharedLocked()
	w.synced = w.lastIndex
	var err error
	for _, f := range append(w.retired, w.tailFile) {
		if f != nil {
			err = errors.Join(err, f.Close())
		}
	}
	w.retired, w.tailFile = nil, nil
	if err != nil {
		// Closing a file we only fsync: nothing is lost, but say so.
		w.opts.Logger.Warn("segment: close tail handles on release", "dir", w.dir, "err", err)
	}
}
