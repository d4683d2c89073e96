package segment

// Damage on disk: what a crash, a bad disk or a stray file leaves, and what
// OpenWAL and the reads make of it. Every test works on real files.

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

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

// TestWALStrayBlame places a copy of a real segment file under another
// 20-digit name, so that the first offsets no longer follow one another,
// and checks which file OpenWAL's *CorruptError names: always the copy,
// never the real file next to it, whichever of the pair the order check
// meets first. When the files alone cannot tell which is the copy, the
// error names both and says so. A refused open changes nothing on disk.
func TestWALStrayBlame(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := WALOptions{SegmentSize: 1 << 10}
	recs := buildLog(t, dir, opts, 160)
	files := segmentFiles(t, dir)
	n := len(files)
	if n < 6 {
		t.Fatalf("setup: %d segment files; want at least 6", n)
	}
	index := make([]uint64, n)
	for k, f := range files {
		if _, err := fmt.Sscanf(filepath.Base(f), "%d", &index[k]); err != nil {
			t.Fatal(err)
		}
		if k > 0 && index[k]-index[k-1] < 2 {
			t.Fatalf("setup: segments %s and %s leave no name between them", files[k-1], f)
		}
	}
	at := func(i uint64) string { return filepath.Join(dir, segmentName(i)) }
	base := saveDir(t, dir)
	copyTo := func(t *testing.T, from, to string) {
		t.Helper()
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o640); err != nil {
			t.Fatal(err)
		}
	}

	for _, c := range []struct {
		name string
		from string // the real file copied
		to   string // the stray copy, which the error must name
		// other is the real file next to the copy that the order check
		// meets with it; it must not be called stray.
		other string
		chain bool // only the exact chain of sealed files tells the copy
	}{
		// The copy's offsets are above those of the real file after it:
		// the order check meets the pair at the real file.
		{"newer segment copied early", files[3], at(index[0] + 1), files[1], false},
		{"newer segment copied into the middle", files[n-2], at(index[2] + 1), files[3], false},
		{"last segment copied to the start", files[n-1], at(index[0] + 1), files[1], false},
		// The copy's offsets are below those of the real file before it.
		{"older segment copied late", files[0], at(index[n-2] + 1), files[n-2], false},
		{"older segment copied into the middle", files[1], at(index[3] + 1), files[3], false},
		{"older segment copied past the end", files[1], at(index[n-1] + 100), files[n-1], false},
		// Removing either file of the pair leaves the offsets in order;
		// only the exact chain of sealed files tells the copy.
		{"first segment copied just after it", files[0], at(index[0] + 1), files[0], true},
		{"last segment copied just past the end", files[n-1], at(index[n-1] + 1), files[n-1], true},
	} {
		t.Run(c.name, func(t *testing.T) {
			base.restore(t, dir)
			copyTo(t, c.from, c.to)
			want := saveDir(t, dir)
			w, err := OpenWAL(dir, opts)
			if err == nil {
				w.Close()
				t.Fatalf("OpenWAL with a stray copy %s = nil error; want a *CorruptError", c.to)
			}
			ce := wantCorrupt(t, err, dir, c.to)
			t.Logf("OpenWAL: %v", err)
			msg := ce.Err.Error()
			if !strings.Contains(msg, filepath.Base(c.other)) {
				t.Errorf("error %q does not name the real file %s next to the stray one", msg, filepath.Base(c.other))
			}
			if !strings.Contains(msg, filepath.Base(c.to)+" is a stray") || strings.Contains(msg, filepath.Base(c.other)+" is a stray") {
				t.Errorf("error %q: want %s, and only it, called stray", msg, filepath.Base(c.to))
			}
			if got := strings.Contains(msg, "chain of whole segment files"); got != c.chain {
				t.Errorf("error %q: decided by the chain of whole files = %v; want %v", msg, got, c.chain)
			}
			if got := saveDir(t, dir); !reflect.DeepEqual(got, want) {
				t.Fatalf("a refused open changed the files: %v; want %v untouched", got.names(), want.names())
			}
			// The file blamed is the one to remove.
			if err := os.Remove(c.to); err != nil {
				t.Fatal(err)
			}
			w = openTestWAL(t, dir, opts, walHooks{})
			sameRecords(t, readAll(t, w, 0, 1<<20), recs)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}

	t.Run("ambiguous two files", func(t *testing.T) {
		// A log of one segment file (its front dropped) and a copy of an
		// older segment after it: either file could be the stray one, as
		// either alone is a valid log.
		kept, stray := files[2], at(index[2]+1)
		keep := func(t *testing.T, paths ...string) {
			t.Helper()
			for _, f := range files {
				if !slices.Contains(paths, f) {
					if err := os.Remove(f); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		base.restore(t, dir)
		copyTo(t, files[0], stray)
		keep(t, kept, stray)
		want := saveDir(t, dir)
		w, err := OpenWAL(dir, opts)
		if err == nil {
			w.Close()
			t.Fatal("OpenWAL with two files out of order = nil error; want a *CorruptError")
		}
		ce := wantCorrupt(t, err, dir, stray) // the later file, by convention
		t.Logf("OpenWAL: %v", err)
		msg := ce.Err.Error()
		for _, f := range []string{kept, stray} {
			if !strings.Contains(msg, filepath.Base(f)) {
				t.Errorf("error %q does not name %s", msg, filepath.Base(f))
			}
			if strings.Contains(msg, filepath.Base(f)+" is a stray") {
				t.Errorf("error %q calls %s stray; want neither file called stray", msg, filepath.Base(f))
			}
		}
		if !strings.Contains(msg, "files do not tell which") {
			t.Errorf("error %q does not say that the files cannot tell which is stray", msg)
		}
		if got := saveDir(t, dir); !reflect.DeepEqual(got, want) {
			t.Fatalf("a refused open changed the files: %v; want %v untouched", got.names(), want.names())
		}
		// Genuinely ambiguous: each file alone opens as a log.
		for _, alone := range []string{kept, stray} {
			want.restore(t, dir)
			other := stray
			if alone == stray {
				other = kept
			}
			if err := os.Remove(other); err != nil {
				t.Fatal(err)
			}
			w := openTestWAL(t, dir, opts, walHooks{})
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
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

// TestWALMisplacedEntries swaps two whole, checksummed entries: every byte
// passes its CRC, but the offsets are in the wrong place. Reads must report
// it, not return the records under the wrong offsets or skip them.
func TestWALMisplacedEntries(t *testing.T) {
	dir := t.TempDir()
	opts := WALOptions{SegmentSize: 1 << 10}
	buildLog(t, dir, opts, 120)
	files := segmentFiles(t, dir)
	base := saveDir(t, dir)
	swap := func(path string, i, j int) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		es := entries(t, data)
		if len(es) <= max(i, j) {
			t.Fatalf("setup: %s has %d entries", path, len(es))
		}
		es[i], es[j] = es[j], es[i]
		if err := os.WriteFile(path, bytes.Join(es, nil), 0o640); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("sealed segment", func(t *testing.T) {
		base.restore(t, dir)
		swap(files[1], 1, 2)
		w := openTestWAL(t, dir, opts, walHooks{})
		_, next := w.Bounds()
		// Sequentially, and starting at every offset (binary search).
		for from := int64(0); from < next; from++ {
			var err error
			for off := from; off < next && err == nil; {
				var recs []Record
				recs, err = w.ReadFrom(off, 1<<20)
				for i, r := range recs {
					if r.Offset != off+int64(i) {
						t.Fatalf("ReadFrom(%d)[%d].Offset = %d", off, i, r.Offset)
					}
				}
				off += int64(len(recs))
			}
			if from == 0 {
				wantCorrupt(t, err, dir, files[1])
			}
			if err != nil {
				wantCorrupt(t, err, dir, "")
			}
		}
		_, err := w.Segments()
		wantCorrupt(t, err, dir, files[1])
		_, err = w.OffsetForTime(49)
		wantCorrupt(t, err, dir, files[1])
	})
	t.Run("last segment", func(t *testing.T) {
		base.restore(t, dir)
		last := files[len(files)-1]
		if fileSize(t, last) == 0 {
			last = files[len(files)-2]
			if err := os.Remove(files[len(files)-1]); err != nil {
				t.Fatal(err)
			}
		}
		swap(last, 0, 1)
		_, err := OpenWAL(dir, opts)
		wantCorrupt(t, err, dir, last)
	})
}

// entries splits a segment file into its entries, framing included.
func entries(t testing.TB, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(data) > 0 {
		size, n := uvarint(data)
		if n <= 0 || uint64(len(data)-n) < size {
			t.Fatal("setup: not a whole segment file")
		}
		out = append(out, data[:n+int(size)])
		data = data[n+int(size):]
	}
	return out
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

// TestWALDropBeforeEmptiedSegment empties a sealed segment file under an
// open WAL, then drops the segments before it. tidwall's TruncateFront
// indexes the segment's (now empty) entry table before its own recover, so
// the drop must turn that panic into a *CorruptError naming the file, not
// crash the process with the WAL's lock held.
func TestWALDropBeforeEmptiedSegment(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir, WALOptions{SegmentSize: 1 << 10}, walHooks{})
	appendAll(t, w, records(0, 300, monotonic))
	infos, err := w.Segments()
	if err != nil || len(infos) < 4 {
		t.Fatalf("Segments() = %d segments, %v; want several", len(infos), err)
	}
	files := segmentFiles(t, dir)
	if err := os.Truncate(files[1], 0); err != nil {
		t.Fatal(err)
	}
	err = w.DropBefore(infos[1].FirstOffset)
	wantCorrupt(t, err, dir, files[1])
	if err := w.Append(records(300, 301, monotonic)); err == nil {
		t.Error("Append after a failed drop succeeded; want the WAL fenced")
	}
}
