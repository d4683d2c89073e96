package segment

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/tidwall/wal"
)

// OpenWAL opens the WAL in dir, creating the directory and an empty log if
// needed. The first Append of a new WAL is at offset 0.
//
// Before handing the directory to tidwall/wal, OpenWAL checks the layout and
// the last segment file:
//   - A torn tail (an entry cut short by a crash, a zero-filled or junk tail)
//     is cut back to the last whole, valid entry, fsynced, and logged as a
//     warning naming the file and the bytes cut.
//   - Anything else that is wrong is a *CorruptError naming the file, and
//     nothing is changed or deleted: an invalid entry followed by a valid one
//     in the last file, a zero-length segment file before the last, segment
//     files whose first offsets do not follow one another (a stray or
//     misplaced 20-digit file inside the range or past the end; the error
//     names the file whose removal puts the others back in order, never
//     the real file next to it, and says so when the files cannot tell
//     which of two it is), or a leftover of a truncation this package
//     never makes.
//
// Sealed segments are not read whole: OpenWAL reads the fixed header of the
// first entry of each (to build the segment table) and the last file whole,
// so it costs one small read per file plus one SegmentSize read. Damage
// inside a sealed segment is reported when it is read, or by the first
// Segments or OffsetForTime call, which verify every sealed segment once.
//
// With a Budget (WALOptions.Budget), the WAL starts released once these
// checks are done: it holds no tidwall/wal memory until an operation needs
// its data (see Budget), so opening many WALs loads none of them.
func OpenWAL(dir string, opts WALOptions) (*WAL, error) {
	return openWAL(dir, opts, walHooks{})
}

// openWAL is OpenWAL with test hooks.
func openWAL(dir string, opts WALOptions, hooks walHooks) (*WAL, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, errors.New("segment: OpenWAL with an empty directory name")
	}
	w := &WAL{dir: dir, opts: o, hooks: hooks, every: markEvery(o.SegmentSize), slot: -1}
	if err := w.mkdir(); err != nil {
		return nil, err
	}
	files, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		// A new log. Its directory may be left over from an OpenWAL that
		// crashed before fsyncing the parent (or made by the caller without
		// one): fsync the parent now, before any record can be
		// acknowledged, or the directory can vanish with them on power
		// loss.
		if err := w.syncDirAt(filepath.Dir(filepath.Clean(dir))); err != nil {
			return nil, fmt.Errorf("segment: sync the parent of %s: %w", dir, err)
		}
	}
	if err := w.loadTable(files); err != nil {
		return nil, err
	}
	if o.Budget != nil && len(files) > 0 && !strings.HasSuffix(files[0].path, ".START") {
		// The files are checked and are exactly what tidwall would load:
		// start released without opening them in tidwall at all, which
		// would read the tail a second time only to close it again.
		// reopenLocked opens them, and checks tidwall's view, at first use.
		if err := w.syncFound(); err != nil {
			return nil, err
		}
		return w, nil
	}
	w.log, err = wal.Open(dir, w.walOptions())
	if err != nil {
		return nil, fmt.Errorf("segment: open wal in %s: %w", dir, err)
	}
	if err := w.afterOpen(); err != nil {
		w.log.Close()
		return nil, err
	}
	if o.Budget != nil {
		// Nothing else can see w yet: no lock is needed.
		w.releaseLocked()
		if err := w.failed; err != nil {
			_ = w.Close()
			return nil, err
		}
	}
	return w, nil
}

// walOptions returns the options of w's *wal.Log: a fresh value for each
// wal.Open, which writes its defaults into it.
func (w *WAL) walOptions() *wal.Options {
	return &wal.Options{
		NoSync:           true, // Sync fsyncs, once per group commit
		SegmentSize:      int(w.opts.SegmentSize),
		LogFormat:        wal.Binary,
		SegmentCacheSize: w.opts.CacheSegments,
		NoCopy:           true, // ReadFrom copies once, itself
		AllowEmpty:       true,
		DirPerms:         0o750,
		FilePerms:        0o640,
	}
}

// mkdir creates the directory if it is missing. Its parent is fsynced by
// openWAL when the log is new, whoever created the directory.
func (w *WAL) mkdir() error {
	if err := os.MkdirAll(w.dir, 0o750); err != nil {
		return fmt.Errorf("segment: %w", err)
	}
	return nil
}

// loadTable builds the segment table and the bounds from files, repairing a
// torn tail. Every check that could name a stray file runs before the
// repair, so a file that does not belong is reported, not cut.
func (w *WAL) loadTable(files []segFile) error {
	if len(files) == 0 {
		w.segs = []walSeg{{index: 1, maxTime: math.MinInt64}}
		return nil // tidwall creates the first file
	}
	n := len(files)
	w.segs = make([]walSeg, n)
	for k, f := range files {
		w.segs[k] = walSeg{index: f.index, offset: -1, bytes: f.size, maxTime: math.MinInt64}
		if f.size == 0 {
			continue
		}
		h, err := firstHeader(f.path)
		switch {
		case err == nil:
			w.segs[k].offset = h.FirstOffset
		case k < n-1:
			return err
		}
		// A last file whose first entry is invalid is torn there, or
		// corrupt: repairTail decides.
	}
	// First offsets must follow one another (a stray copy of another
	// segment, inside the range or past the end, breaks this); then no file
	// but the last may be empty.
	if err := checkOrder(files, w.segs); err != nil {
		return err
	}
	for _, f := range files[:n-1] {
		if f.size == 0 {
			return &CorruptError{File: f.path, Pos: 0, Offset: -1, Err: fmt.Errorf(
				"zero-length segment file before the last one: %w", ErrCorrupt)}
		}
	}

	tail := files[n-1]
	ts, err := w.repairTail(tail)
	if err != nil {
		return err
	}
	w.tailBytes = ts.ValidBytes
	last := &w.segs[n-1]
	switch {
	case ts.Entries > 0:
		last.offset = ts.first
		w.next.Store(ts.Last.FirstOffset + int64(ts.Last.Count))
	case n == 1 && tail.index == 1:
		last.offset = 0 // a new, empty log
	case n == 1:
		return &CorruptError{File: tail.path, Pos: 0, Offset: -1, Err: fmt.Errorf(
			"the only segment file is empty but does not start the log, so its offsets are unknown: %w", ErrCorrupt)}
	default:
		// An empty tail, as tidwall leaves it right after a cycle: it starts
		// where the one before it ends.
		end, err := sealedEnd(files[n-2], tail.index)
		if err != nil {
			return err
		}
		last.offset = end
		w.next.Store(end)
	}
	if n > 1 {
		if err := checkOrder(files, w.segs); err != nil {
			return err
		}
	}
	w.first.Store(w.segs[0].offset)
	w.lastIndex = tail.index + uint64(ts.Entries) - 1
	return nil
}

// follows reports whether segment s can follow segment p: every entry
// holds at least one record, so the first offsets must grow at least as
// much as the wal indexes. Equivalently, offset-index never decreases along
// the log, so the relation is transitive and one stray file breaks it only
// next to itself.
func follows(p, s walSeg) bool {
	return s.offset > p.offset && uint64(s.offset-p.offset) >= s.index-p.index
}

// disorder returns the first pair of segments, by position in segs, whose
// first offsets do not follow one another, ignoring segments of unknown
// offset; (-1, -1) if there is none.
func disorder(segs []walSeg) (p, k int) {
	p = -1
	for k := range segs {
		if segs[k].offset < 0 {
			continue
		}
		if p >= 0 && !follows(segs[p], segs[k]) {
			return p, k
		}
		p = k
	}
	return -1, -1
}

// checkOrder reports segment files whose first offsets do not follow one
// another, as a *CorruptError naming the file that does not belong there.
//
// A stray file (a copy of another segment under a 20-digit name of its
// own) is out of order with one of its neighbours, but which of the two
// files of the pair is the stray one depends on what it is a copy of: a
// copy of a newer segment placed early is out of order with the real file
// after it, a copy of an older one placed late with the real file before
// it. blameStray decides which file to name; the real file is never
// called stray.
func checkOrder(files []segFile, segs []walSeg) error {
	p, k := disorder(segs)
	if k < 0 {
		return nil
	}
	return blameStray(files, segs, p, k)
}

// blameStray returns the *CorruptError for segments p and k, adjacent
// among those of known offset, k not following p. With a single stray
// file, removing it puts the files around it back in order, and the offset
// order alone tells which one it is unless removing either would do (at an
// end of the log, or when the copy is of a segment close by). Then the
// exact chain decides: a sealed segment file ends where the next one
// starts, in records and in wal indexes, and the stray one cannot be
// where a neighbour ends, as the real file is that. This reads up to three
// sealed files whole, on this error path only. If neither tells, the error
// says that one of the two is stray and names both, without saying which.
func blameStray(files []segFile, segs []walSeg, p, k int) error {
	pp, nn := -1, -1 // the neighbours of the pair of known offset
	for i := p - 1; i >= 0 && pp < 0; i-- {
		if segs[i].offset >= 0 {
			pp = i
		}
	}
	for i := k + 1; i < len(segs) && nn < 0; i++ {
		if segs[i].offset >= 0 {
			nn = i
		}
	}
	// Does removing p, or k, put the pair's neighbourhood back in order?
	// As follows is transitive, that is the same as the whole log being
	// in order without it when this is the only disorder.
	withoutP := pp < 0 || follows(segs[pp], segs[k])
	withoutK := nn < 0 || follows(segs[p], segs[nn])
	why := "the files around it are in order without it"
	if withoutP == withoutK {
		// Is either file exactly where a neighbour ends, or ends where a
		// neighbour starts?
		leads := func(a, b int) bool {
			if a < 0 || b < 0 {
				return false
			}
			index, offset, ok := chainNext(files[a])
			return ok && index == segs[b].index && offset == segs[b].offset
		}
		realP := leads(pp, p) || leads(p, nn)
		realK := leads(pp, k) || leads(k, nn)
		withoutP, withoutK = realK && !realP, realP && !realK
		why = "the other one is in its place in the chain of whole segment files, where its neighbour ends or it ends where its neighbour starts"
	}
	pn, kn := filepath.Base(files[p].path), filepath.Base(files[k].path)
	ps, ks := segs[p], segs[k]
	switch {
	case withoutK && !withoutP:
		return &CorruptError{File: files[k].path, Pos: 0, Offset: ks.offset, Err: fmt.Errorf(
			"starts at offset %d (wal index %d), which cannot follow %s starting at offset %d (wal index %d): %s is a stray or misplaced segment file (%s): %w",
			ks.offset, ks.index, pn, ps.offset, ps.index, kn, why, ErrCorrupt)}
	case withoutP && !withoutK:
		return &CorruptError{File: files[p].path, Pos: 0, Offset: ps.offset, Err: fmt.Errorf(
			"starts at offset %d (wal index %d), which cannot come before %s starting at offset %d (wal index %d): %s is a stray or misplaced segment file (%s): %w",
			ps.offset, ps.index, kn, ks.offset, ks.index, pn, why, ErrCorrupt)}
	}
	return &CorruptError{File: files[k].path, Pos: 0, Offset: ks.offset, Err: fmt.Errorf(
		"starts at offset %d (wal index %d), which cannot follow %s starting at offset %d (wal index %d): of the two files %s and %s, one is a stray or misplaced segment file, and the files do not tell which; check both before moving either aside: %w",
		ks.offset, ks.index, pn, ps.offset, ps.index, pn, kn, ErrCorrupt)}
}

// afterOpen checks tidwall's view against the segment table, opens the
// tail handle Sync uses and makes what OpenWAL found durable: the tail may
// hold records written but never fsynced before a process crash, which
// readers are about to see, and tidwall may have created the first file or
// finished a truncation.
func (w *WAL) afterOpen() error {
	if err := w.checkIndexesLocked(); err != nil {
		return err
	}
	if err := w.reopenTailLocked(); err != nil {
		return err
	}
	err := w.syncFile(w.tailFile)
	if err == nil {
		err = w.syncDir()
	}
	if err != nil {
		w.tailFile.Close()
		return fmt.Errorf("segment: sync %s: %w", w.dir, err)
	}
	w.synced = w.lastIndex
	return nil
}

// syncFound makes what openWAL found durable without tidwall, as
// afterOpen does with it: the tail may hold records written but never
// fsynced before a process crash, which readers are about to see.
func (w *WAL) syncFound() error {
	f, err := os.Open(w.segPath(w.segs[len(w.segs)-1].index))
	if err != nil {
		return fmt.Errorf("segment: %w", err)
	}
	err = w.syncFile(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = w.syncDir()
	}
	if err != nil {
		return fmt.Errorf("segment: sync %s: %w", w.dir, err)
	}
	w.synced = w.lastIndex
	return nil
}

// checkIndexesLocked checks that tidwall/wal, just opened, sees the wal
// indexes the segment table says.
func (w *WAL) checkIndexesLocked() error {
	first, err := w.log.FirstIndex()
	if err != nil {
		return fmt.Errorf("segment: %w", err)
	}
	last, err := w.log.LastIndex()
	if err != nil {
		return fmt.Errorf("segment: %w", err)
	}
	if first != w.segs[0].index || last != w.lastIndex {
		return fmt.Errorf("segment: tidwall/wal opened %s with wal indexes [%d, %d], the segment table says [%d, %d]",
			w.dir, first, last, w.segs[0].index, w.lastIndex)
	}
	return nil
}
