package segment

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
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

// TestWALTornTail cuts the last entry of a log at every byte, as a crash
// inside its write(2) would: in one log it follows other entries in the
// last file, in the other it is the only entry of its file (and the file
// tidwall started after it is removed, as a crash before the cycle leaves
// it). Open must cut exactly that entry, and appends continue after it.
func TestWALTornTail(t *testing.T) {
	t.Parallel()
	for _, onlyEntry := range []bool{false, true} {
		t.Run(fmt.Sprintf("onlyEntry=%v", onlyEntry), func(t *testing.T) {
			dir := t.TempDir()
			opts := WALOptions{SegmentSize: 4 << 10}
			if onlyEntry {
				opts.SegmentSize = 1 // every entry fills a segment
			}
			w := openTestWAL(t, dir, opts, walHooks{})
			recs := records(0, 40, monotonic)
			appendAll(t, w, recs[:37], 2, 3)
			files := segmentFiles(t, dir)
			last := files[len(files)-1]
			before := fileSize(t, last)
			appendAll(t, w, recs[37:], 3) // the entry to tear: offsets 37..39
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if onlyEntry {
				if before != 0 {
					t.Fatalf("setup: last file had %d bytes before the last entry; want 0", before)
				}
				files = segmentFiles(t, dir)
				if err := os.Remove(files[len(files)-1]); err != nil { // the empty file after the cycle
					t.Fatal(err)
				}
			}
			after := fileSize(t, last)
			base := saveDir(t, dir)

			for cut := before; cut < after; cut++ {
				t.Run(fmt.Sprintf("cut=%d", cut), func(t *testing.T) {
					base.restore(t, dir)
					if err := os.Truncate(last, cut); err != nil {
						t.Fatal(err)
					}
					var logBuf bytes.Buffer
					o := opts
					o.Logger = slog.New(slog.NewTextHandler(&logBuf, nil))
					w := openTestWAL(t, dir, o, noFsync)
					if cut > before && !strings.Contains(logBuf.String(), "torn tail") {
						t.Errorf("no warning logged for a torn tail; log: %q", logBuf.String())
					}
					if first, next := w.Bounds(); first != 0 || next != 37 {
						t.Fatalf("Bounds() after a torn write = %d, %d; want 0, 37: only the torn entry may go", first, next)
					}
					if got := fileSize(t, last); got != before {
						t.Fatalf("last file cut to %d bytes; want %d", got, before)
					}
					appendAll(t, w, recs[37:], 3)
					sameRecords(t, readAll(t, w, 0, 1<<10), recs)
					checkTableMatchesDisk(t, w, dir)
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					w = openTestWAL(t, dir, opts, noFsync)
					sameRecords(t, readAll(t, w, 0, 1<<10), recs)
				})
			}
		})
	}
}

func TestWALZeroFilledTail(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir, WALOptions{SegmentSize: 8 << 10}, walHooks{})
	recs := records(0, 100, monotonic)
	appendAll(t, w, recs[:90])
	w.Close()
	files := segmentFiles(t, dir)
	last := files[len(files)-1]
	size := fileSize(t, last)
	f, err := os.OpenFile(last, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 4096)); err != nil { // extended but never written
		t.Fatal(err)
	}
	f.Close()

	w = openTestWAL(t, dir, WALOptions{SegmentSize: 8 << 10}, walHooks{})
	if _, next := w.Bounds(); next != 90 {
		t.Fatalf("next offset after a zero-filled tail = %d; want 90 (no phantom entries)", next)
	}
	if got := fileSize(t, last); got != size {
		t.Fatalf("last file is %d bytes; want the zeros cut back to %d", got, size)
	}
	appendAll(t, w, recs[90:])
	sameRecords(t, readAll(t, w, 0, 1<<20), recs)
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

func TestWALStraySegmentFiles(t *testing.T) {
	dir := t.TempDir()
	opts := WALOptions{SegmentSize: 1 << 10}
	recs := buildLog(t, dir, opts, 120)
	files := segmentFiles(t, dir)
	if len(files) < 4 {
		t.Fatalf("setup: %d segment files; want at least 4", len(files))
	}
	index := func(path string) uint64 {
		var i uint64
		fmt.Sscanf(filepath.Base(path), "%d", &i)
		return i
	}
	if index(files[2])-index(files[1]) < 2 {
		t.Fatalf("setup: segments %s and %s leave no name between them", files[1], files[2])
	}
	between := filepath.Join(dir, segmentName(index(files[1])+1))
	past := filepath.Join(dir, segmentName(index(files[len(files)-1])+100))
	old, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	middle, err := os.ReadFile(files[1])
	if err != nil {
		t.Fatal(err)
	}
	base := saveDir(t, dir)
	cases := []struct {
		name string
		file string
		data []byte
	}{
		{"old segment copied inside the range", between, old},
		{"old segment copied past the end", past, old},
		{"middle segment copied past the end", past, middle},
		{"zero-length segment in the middle", between, []byte{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base.restore(t, dir)
			if err := os.WriteFile(c.file, c.data, 0o640); err != nil {
				t.Fatal(err)
			}
			want := saveDir(t, dir)
			w, err := OpenWAL(dir, opts)
			if err == nil {
				w.Close()
				t.Fatal("OpenWAL with a stray segment file = nil error; want a *CorruptError")
			}
			wantCorrupt(t, err, dir, c.file)
			if got := saveDir(t, dir); !slices.Equal(got.names(), want.names()) {
				t.Fatalf("files after a failed open = %v; want them untouched: %v", got.names(), want.names())
			}
		})
	}
	base.restore(t, dir)
	w := openTestWAL(t, dir, opts, walHooks{})
	sameRecords(t, readAll(t, w, 0, 1<<20), recs)
}

// TestWALSealedSegmentDamage covers damage OpenWAL does not read: a sealed
// file cut short at an entry boundary, or missing. tidwall/wal would panic
// reading past the entries it has; the store reports a *CorruptError.
func TestWALSealedSegmentDamage(t *testing.T) {
	dir := t.TempDir()
	opts := WALOptions{SegmentSize: 1 << 10}
	buildLog(t, dir, opts, 120)
	files := segmentFiles(t, dir)
	base := saveDir(t, dir)

	firstEntryEnd := func(path string) int64 {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		res, err := ScanSegment(data)
		if err != nil || res.Entries < 2 {
			t.Fatalf("setup: ScanSegment(%s) = %+v, %v; want several entries", path, res, err)
		}
		size, n := uvarint(data)
		return int64(n) + int64(size)
	}
	cases := map[string]func(){
		"cut at an entry boundary": func() {
			if err := os.Truncate(files[1], firstEntryEnd(files[1])); err != nil {
				t.Fatal(err)
			}
		},
		"missing": func() {
			if err := os.Remove(files[1]); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			base.restore(t, dir)
			damage()
			w := openTestWAL(t, dir, opts, walHooks{})
			_, next := w.Bounds()
			var readErr error
			for off := int64(0); off < next && readErr == nil; {
				var recs []Record
				recs, readErr = w.ReadFrom(off, 1<<20)
				off += int64(len(recs))
			}
			wantCorrupt(t, readErr, dir, "")
			t.Logf("ReadFrom: %v", readErr)
			_, err := w.Segments()
			wantCorrupt(t, err, dir, "")
			t.Logf("Segments: %v", err)
		})
	}
}

// flipBit flips one bit of the file at path, in place.
func flipBit(t testing.TB, path string, pos int64, bit uint) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], pos); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1 << bit
	if _, err := f.WriteAt(b[:], pos); err != nil {
		t.Fatal(err)
	}
}

// TestWALBitFlips flips one bit in every byte of a log of several segment
// files. Each must end in a repair (a torn tail cut at open) or a
// *CorruptError (at open or when read), never in wrong records or a panic.
func TestWALBitFlips(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := WALOptions{SegmentSize: 512, Logger: slog.New(slog.DiscardHandler)}
	recs := buildLog(t, dir, opts, 40)
	files := segmentFiles(t, dir)
	if len(files) < 4 {
		t.Fatalf("setup: %d segment files; want several", len(files))
	}
	base := saveDir(t, dir)
	stride := 1
	if testing.Short() {
		stride = 7
	}
	flips := 0
	for fi, path := range files {
		orig := base[filepath.Base(path)]
		for pos := 0; pos < len(orig); pos += stride {
			base.restore(t, dir)
			flipBit(t, path, int64(pos), uint(pos%8))
			flips++
			where := fmt.Sprintf("bit %d of byte %d of %s", pos%8, pos, filepath.Base(path))
			w, err := openWAL(dir, opts, noFsync)
			if err != nil {
				wantCorrupt(t, err, dir, "")
				continue
			}
			first, next := w.Bounds()
			detected := first != 0 || next != int64(len(recs))
			if first != 0 || next > int64(len(recs)) {
				t.Fatalf("%s: Bounds() = %d, %d; want 0 and at most %d", where, first, next, len(recs))
			}
			if next < int64(len(recs)) && fi != len(files)-1 {
				t.Fatalf("%s: open cut the log to %d records, but only the last file may be cut", where, next)
			}
			for off := first; off < next; {
				got, err := w.ReadFrom(off, 1<<20)
				if err != nil {
					wantCorrupt(t, err, dir, "")
					detected = true
					break
				}
				for _, r := range got {
					if !reflect.DeepEqual(r, recs[r.Offset]) {
						t.Fatalf("%s: ReadFrom(%d) returned %+v; want %+v", where, off, r, recs[r.Offset])
					}
				}
				off += int64(len(got))
			}
			if _, err := w.Segments(); err != nil {
				wantCorrupt(t, err, dir, "")
				detected = true
			}
			if !detected {
				t.Fatalf("%s: went unnoticed", where)
			}
			w.Close()
		}
	}
	t.Logf("%d bit flips in %d files", flips, len(files))
}

func TestWALInterruptedDrop(t *testing.T) {
	dir := t.TempDir()
	opts := WALOptions{SegmentSize: 1 << 10}
	recs := buildLog(t, dir, opts, 120)
	files := segmentFiles(t, dir)
	h, err := firstHeader(files[2])
	if err != nil {
		t.Fatal(err)
	}
	// A DropBefore that stopped after writing the .START file and removing
	// the first file: OpenWAL lets tidwall finish it.
	data, err := os.ReadFile(files[2])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files[2]+".START", data, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	w := openTestWAL(t, dir, opts, walHooks{})
	if first, _ := w.Bounds(); first != h.FirstOffset {
		t.Fatalf("first offset after an interrupted drop = %d; want %d", first, h.FirstOffset)
	}
	sameRecords(t, readAll(t, w, h.FirstOffset, 1<<20), recs[h.FirstOffset:])
	checkTableMatchesDisk(t, w, dir)
	w.Close()

	// An .END file comes only from TruncateBack, which the store never
	// calls: tidwall would delete the files after it.
	end := files[len(files)-2] + ".END"
	if err := os.WriteFile(end, data, 0o640); err != nil {
		t.Fatal(err)
	}
	_, err = OpenWAL(dir, opts)
	wantCorrupt(t, err, dir, end)
	if _, err := os.Stat(files[len(files)-1]); err != nil {
		t.Fatalf("the last segment after a refused open: %v; want it kept", err)
	}
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

// BenchmarkOpenWAL opens (and closes) a 512 MiB log of 1 MiB segments.
func BenchmarkOpenWAL(b *testing.B) {
	dir := b.TempDir()
	benchLog(b, dir, 512<<20)
	b.ReportAllocs()
	for b.Loop() {
		w, err := OpenWAL(dir, WALOptions{})
		if err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
}
