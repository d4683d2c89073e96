package segment

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// openTestWAL opens the WAL in dir with test hooks, failing the test on
// error; the WAL is closed when the test ends.
func openTestWAL(t testing.TB, dir string, opts WALOptions, hooks walHooks) *WAL {
	t.Helper()
	w, err := openWAL(dir, opts, hooks)
	if err != nil {
		t.Fatalf("OpenWAL(%s) = %v", dir, err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// noFsync skips the store's own fsyncs, for tests that reopen a log
// thousands of times and do not test durability.
var noFsync = walHooks{
	syncFile: func(*os.File) error { return nil },
	syncDir:  func(string) error { return nil },
}

// segmentFiles returns the paths of the 20-digit segment files in dir, in
// order. This is the one place the tests know the on-disk layout.
func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, strings.Repeat("[0-9]", 20)))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(paths)
	return paths
}

// fileSize returns the size of path.
func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// dirState is every file of a directory, to restore it between runs.
type dirState map[string][]byte

// saveDir reads every file of dir.
func saveDir(t testing.TB, dir string) dirState {
	t.Helper()
	st := dirState{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		st[e.Name()] = b
	}
	return st
}

// restore makes dir hold exactly the files of st. It rewrites only files
// that differ, in place: truncating a file to zero and rewriting it makes
// ext4 flush it on close (auto_da_alloc), which would dominate tests that
// restore thousands of times.
func (st dirState) restore(t testing.TB, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if _, ok := st[e.Name()]; !ok {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, want := range st {
		path := filepath.Join(dir, name)
		if got, err := os.ReadFile(path); err == nil && bytes.Equal(got, want) {
			continue
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o640)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteAt(want, 0)
		if err == nil {
			err = f.Truncate(int64(len(want)))
		}
		if err = errors.Join(err, f.Close()); err != nil {
			t.Fatal(err)
		}
	}
}

// names lists the files of st, sorted.
func (st dirState) names() []string {
	var out []string
	for name := range st {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// checkTableMatchesDisk checks that Segments() describes exactly the
// segment files holding records: same first offsets, same sizes, in order.
// Only the last file may be empty (tidwall starts it when the one before
// fills).
func checkTableMatchesDisk(t testing.TB, w *WAL, dir string) {
	t.Helper()
	infos, err := w.Segments()
	if err != nil {
		t.Fatal(err)
	}
	files := segmentFiles(t, dir)
	if n := len(files); n > 0 && fileSize(t, files[n-1]) == 0 {
		files = files[:n-1]
	}
	if len(files) != len(infos) {
		t.Fatalf("%d non-empty segment files on disk, Segments() lists %d", len(files), len(infos))
	}
	for i, path := range files {
		if fileSize(t, path) == 0 {
			t.Fatalf("segment file %s is empty and not the last", path)
		}
		h, err := firstHeader(path)
		if err != nil {
			t.Fatal(err)
		}
		if h.FirstOffset != infos[i].FirstOffset || fileSize(t, path) != infos[i].Bytes {
			t.Fatalf("file %s starts at offset %d with %d bytes; Segments()[%d] = %+v",
				filepath.Base(path), h.FirstOffset, fileSize(t, path), i, infos[i])
		}
	}
}

// wantCorrupt fails the test unless err is a *CorruptError that names a
// file in dir (and, if file is not empty, that file).
func wantCorrupt(t testing.TB, err error, dir, file string) *CorruptError {
	t.Helper()
	var ce *CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("error = %v; want a *CorruptError", err)
	}
	if filepath.Dir(ce.File) != filepath.Clean(dir) || (file != "" && ce.File != file) {
		t.Fatalf("CorruptError names file %q; want %q in %s", ce.File, file, dir)
	}
	return ce
}

func TestWALReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	opts := WALOptions{SegmentSize: 2 << 10}
	w := openTestWAL(t, dir, opts, walHooks{})
	recs := records(0, 600, func(off int64) int64 { return (off * 7919) % 1000 })
	appendAll(t, w, recs)
	infos, err := w.Segments()
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) < 5 {
		t.Fatalf("want a log of several segments; have %d", len(infos))
	}
	if err := w.DropBefore(infos[1].FirstOffset); err != nil {
		t.Fatal(err)
	}
	infos = infos[1:]
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	for reopen := range 2 {
		w = openTestWAL(t, dir, opts, walHooks{})
		first, next := w.Bounds()
		if first != infos[0].FirstOffset || next != int64(len(recs)) {
			t.Fatalf("reopen %d: Bounds() = %d, %d; want %d, %d", reopen, first, next, infos[0].FirstOffset, len(recs))
		}
		sameRecords(t, readAll(t, w, first, 1<<10), recs[first:])
		got, err := w.Segments()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, infos) {
			t.Fatalf("reopen %d: Segments() = %v; want %v", reopen, got, infos)
		}
		for _, ts := range []int64{-1, 0, 500, 999, 1000} {
			want := next
			for _, r := range recs[first:] {
				if r.Time >= ts {
					want = r.Offset
					break
				}
			}
			if got, err := w.OffsetForTime(ts); err != nil || got != want {
				t.Fatalf("reopen %d: OffsetForTime(%d) = %d, %v; want %d", reopen, ts, got, err, want)
			}
		}
		checkTableMatchesDisk(t, w, dir)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWALSegmentCycling(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir, WALOptions{SegmentSize: 1 << 10}, walHooks{})
	var recs []Record
	for _, n := range []int{1, 1, 3, 30, 1, 200, 2, 2, 2, 60, 1} { // small and large batches
		more := records(int64(len(recs)), int64(len(recs)+n), monotonic)
		appendAll(t, w, more)
		recs = append(recs, more...)
		checkTableMatchesDisk(t, w, dir)
	}
	big := Record{Offset: int64(len(recs)), Value: bytes.Repeat([]byte{7}, 3*maxEntryBytes/2)} // one record over an entry
	appendAll(t, w, []Record{big})
	recs = append(recs, big)
	checkTableMatchesDisk(t, w, dir)
	if n := len(segmentFiles(t, dir)); n < 10 {
		t.Fatalf("%d segment files; want many with 1 KiB segments", n)
	}
	sameRecords(t, readAll(t, w, 0, 4<<10), recs)

	// A log written with large segments, reopened with small ones: the tail
	// is already over SegmentSize, so tidwall cycles before the next entry.
	dir2 := t.TempDir()
	w2 := openTestWAL(t, dir2, WALOptions{SegmentSize: 64 << 10}, walHooks{})
	appendAll(t, w2, recs[:300])
	w2.Close()
	w2 = openTestWAL(t, dir2, WALOptions{SegmentSize: 1 << 10}, walHooks{})
	appendAll(t, w2, recs[300:302])
	checkTableMatchesDisk(t, w2, dir2)
	appendAll(t, w2, recs[302:])
	checkTableMatchesDisk(t, w2, dir2)
	sameRecords(t, readAll(t, w2, 0, 1<<20), recs)
}

// buildLog writes a log of several segment files, each with several
// entries, and closes it. It returns the records.
func buildLog(t testing.TB, dir string, opts WALOptions, n int64) []Record {
	t.Helper()
	w := openTestWAL(t, dir, opts, walHooks{})
	recs := records(0, n, func(off int64) int64 { return off % 50 })
	appendAll(t, w, recs, 1, 2, 3)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestWALDirectorySync(t *testing.T) {
	var dirSyncs, fileSyncs atomic.Int64
	hooks := walHooks{
		syncDir:  func(dir string) error { dirSyncs.Add(1); return syncDir(dir) },
		syncFile: func(f *os.File) error { fileSyncs.Add(1); return f.Sync() },
	}
	dir := t.TempDir()
	w := openTestWAL(t, dir, WALOptions{SegmentSize: 1 << 10}, hooks)
	if dirSyncs.Load() == 0 {
		t.Fatal("OpenWAL of a new log did not fsync the directory it created a file in")
	}
	appendAll(t, w, records(0, 2, monotonic)) // no new file
	d := dirSyncs.Load()
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if dirSyncs.Load() != d {
		t.Error("Sync fsynced the directory with no new segment file")
	}
	files := len(segmentFiles(t, dir))
	for off := int64(2); len(segmentFiles(t, dir)) == files; off++ {
		if err := w.Append(records(off, off+1, monotonic)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if dirSyncs.Load() != d+1 {
		t.Errorf("Sync after a new segment file: %d directory fsyncs; want 1", dirSyncs.Load()-d)
	}
	if fileSyncs.Load() < 2 {
		t.Errorf("%d fsyncs of the tail file; want one per Sync", fileSyncs.Load())
	}
	_, next := w.Bounds()
	appendAll(t, w, records(next, next+3, monotonic))
	infos, err := w.Segments()
	if err != nil || len(infos) < 2 {
		t.Fatalf("Segments() = %v, %v; want two", infos, err)
	}
	d = dirSyncs.Load()
	if err := w.DropBefore(infos[1].FirstOffset); err != nil {
		t.Fatal(err)
	}
	if dirSyncs.Load() == d {
		t.Error("DropBefore removed and renamed files without a directory fsync")
	}
}

func TestWALFencedAfterSyncError(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EIO} {
		t.Run(errno.Error(), func(t *testing.T) {
			var fail atomic.Bool
			hooks := walHooks{syncFile: func(f *os.File) error {
				if fail.Load() {
					return &fs.PathError{Op: "sync", Path: f.Name(), Err: errno}
				}
				return f.Sync()
			}}
			dir := t.TempDir()
			w := openTestWAL(t, dir, WALOptions{}, hooks)
			recs := records(0, 20, monotonic)
			appendAll(t, w, recs[:10])
			if err := w.Append(recs[10:15]); err != nil {
				t.Fatal(err)
			}
			fail.Store(true)
			err := w.Sync()
			if !errors.Is(err, errno) {
				t.Fatalf("Sync() with a failing fsync = %v; want %v", err, errno)
			}
			fail.Store(false) // a retry would "succeed": it must not be made
			for name, err := range map[string]error{
				"Sync":       w.Sync(),
				"Append":     w.Append(recs[15:]),
				"DropBefore": w.DropBefore(5),
				"Close":      w.Close(),
			} {
				if !errors.Is(err, errno) {
					t.Errorf("%s after a failed fsync = %v; want the fencing error (%v)", name, err, errno)
				}
			}
			// The data written is all there after reopening.
			w = openTestWAL(t, dir, WALOptions{}, walHooks{})
			if _, next := w.Bounds(); next != 15 {
				t.Fatalf("next after reopen = %d; want 15", next)
			}
			appendAll(t, w, recs[15:])
			sameRecords(t, readAll(t, w, 0, 1<<20), recs)
		})
	}
}

func TestWALOptions(t *testing.T) {
	for _, o := range []WALOptions{{SegmentSize: -1}, {CacheSegments: -1}, {SegmentSize: 1 << 40}} {
		if _, err := OpenWAL(t.TempDir(), o); err == nil {
			t.Errorf("OpenWAL(%+v) = nil error; want one", o)
		}
	}
	if _, err := OpenWAL("", WALOptions{}); err == nil {
		t.Error(`OpenWAL("") = nil error; want one`)
	}
	// A directory that does not exist yet is created.
	dir := filepath.Join(t.TempDir(), "a", "b")
	w := openTestWAL(t, dir, WALOptions{}, walHooks{})
	appendAll(t, w, records(0, 3, monotonic))
	if w.opts.SegmentSize != defaultSegmentSize || w.opts.CacheSegments != 1 || w.opts.Logger == nil {
		t.Errorf("defaults = %+v", w.opts)
	}
}

// BenchmarkWALAppendSync measures group commits: one Append of a batch of
// 100-byte records and one Sync (an fsync) per iteration.
func BenchmarkWALAppendSync(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			w := openTestWAL(b, b.TempDir(), WALOptions{SegmentSize: 4 << 20}, walHooks{})
			batch := make([]Record, n)
			for i := range batch {
				batch[i] = Record{Time: int64(i), Key: []byte("key-0001"), Value: bytes.Repeat([]byte{'v'}, 100)}
			}
			var next int64
			b.SetBytes(int64(n * 100))
			b.ReportAllocs()
			for b.Loop() {
				for i := range batch {
					batch[i].Offset = next + int64(i)
				}
				if err := w.Append(batch); err != nil {
					b.Fatal(err)
				}
				if err := w.Sync(); err != nil {
					b.Fatal(err)
				}
				next += int64(n)
			}
			b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// benchLog writes a log of about size bytes of 100-byte records in batches
// of 1000 into dir, once per dir.
func benchLog(b *testing.B, dir string, size int64) int64 {
	b.Helper()
	w, err := OpenWAL(dir, WALOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	if _, next := w.Bounds(); next > 0 {
		return next
	}
	batch := make([]Record, 1000)
	var next int64
	for written := int64(0); written < size; written += int64(len(batch) * 100) {
		for i := range batch {
			batch[i] = Record{Offset: next + int64(i), Time: next + int64(i), Value: bytes.Repeat([]byte{'v'}, 100)}
		}
		if err := w.Append(batch); err != nil {
			b.Fatal(err)
		}
		next += int64(len(batch))
	}
	if err := w.Sync(); err != nil {
		b.Fatal(err)
	}
	return next
}

// BenchmarkWALReadFrom reads a 64 MiB log sequentially, 1 MiB per call.
func BenchmarkWALReadFrom(b *testing.B) {
	dir := b.TempDir()
	n := benchLog(b, dir, 64<<20)
	w := openTestWAL(b, dir, WALOptions{}, walHooks{})
	b.ReportAllocs()
	var records int64
	for b.Loop() {
		for off := int64(0); off < n; {
			recs, err := w.ReadFrom(off, 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			off += int64(len(recs))
			records += int64(len(recs))
		}
	}
	b.SetBytes(n * 100)
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkOpenWAL opens (and closes) a 512 MiB log of 1 MiB segments;
// "+index" adds the first Segments call, which reads and verifies every
// sealed segment to build the time index.
func BenchmarkOpenWAL(b *testing.B) {
	dir := b.TempDir()
	benchLog(b, dir, 512<<20)
	for _, index := range []bool{false, true} {
		name := "open"
		if index {
			name = "open+index"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w, err := OpenWAL(dir, WALOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if index {
					if _, err := w.Segments(); err != nil {
						b.Fatal(err)
					}
				}
				w.Close()
			}
		})
	}
}

// TestWALNewLogSyncsParentOfExistingDir opens a new log in a directory that
// already exists but holds no segment file, as an OpenWAL that crashed
// between creating the directory and fsyncing its parent leaves it: the
// parent must be fsynced before any record can be acknowledged, or the
// whole directory can vanish on power loss with the records in it.
func TestWALNewLogSyncsParentOfExistingDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "p")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var synced []string
	hooks := walHooks{syncDir: func(d string) error {
		mu.Lock()
		synced = append(synced, filepath.Clean(d))
		mu.Unlock()
		return syncDir(d)
	}}
	w := openTestWAL(t, dir, WALOptions{}, hooks)
	appendAll(t, w, records(0, 3, monotonic))
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(synced, parent) {
		t.Errorf("directories fsynced: %q; want the parent %s of the new log's directory", synced, parent)
	}
}
