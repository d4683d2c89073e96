package segment

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// With Preallocate the tail file is filled with zeros up to SegmentSize,
// sealed files hold none, and Close leaves exactly the bytes tidwall wrote.
func TestWALPreallocate(t *testing.T) {
	dir := t.TempDir()
	const segSize = 8 << 10
	w := openTestWAL(t, dir, WALOptions{SegmentSize: segSize, Preallocate: true}, walHooks{})
	want := records(0, 300, monotonic)
	appendSynced(t, w, want, 7) // several segments: ~36 KiB of records
	files := segmentFiles(t, dir)
	if len(files) < 3 {
		t.Fatalf("%d segment files; want several", len(files))
	}
	infos, err := w.Segments()
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files[:len(files)-1] {
		if got := fileSize(t, f); got != infos[i].Bytes {
			t.Errorf("sealed %s: %d bytes on disk, %d of records: a sealed file must hold no zeros", filepath.Base(f), got, infos[i].Bytes)
		}
	}
	tail := files[len(files)-1]
	if got := fileSize(t, tail); got != segSize {
		t.Errorf("tail %s: %d bytes on disk; want it preallocated to %d", filepath.Base(tail), got, segSize)
	}
	sameRecords(t, readAll(t, w, 0, 0), want)

	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(tail)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ScanSegment(data)
	if err != nil || res.TornBytes != 0 || res.ValidBytes != int64(len(data)) {
		t.Fatalf("tail after Close: %+v, %v; want only whole entries, no zeros", res, err)
	}
	var logs bytes.Buffer
	w = openTestWAL(t, dir, WALOptions{SegmentSize: segSize, Preallocate: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, walHooks{})
	sameRecords(t, readAll(t, w, 0, 0), want)
	if logs.Len() > 0 {
		t.Errorf("reopen after a clean Close logged: %s", logs.String())
	}
}

// A crash leaves the preallocated zeros in the tail: the next open cuts
// them, keeps every record, and the WAL goes on appending.
func TestWALPreallocatedTailAfterCrash(t *testing.T) {
	dir := t.TempDir()
	const segSize = 8 << 10
	w := openTestWAL(t, dir, WALOptions{SegmentSize: segSize, Preallocate: true}, walHooks{})
	want := records(0, 20, monotonic)
	appendSynced(t, w, want, 1)
	crashed := saveDir(t, dir) // the files as a crash would leave them
	w.Close()

	copyDir := t.TempDir()
	crashed.restore(t, copyDir)
	tail := segmentFiles(t, copyDir)[0]
	if got := fileSize(t, tail); got != segSize {
		t.Fatalf("crashed tail: %d bytes; want the preallocated %d", got, segSize)
	}
	var logs bytes.Buffer
	w2 := openTestWAL(t, copyDir, WALOptions{SegmentSize: segSize, Preallocate: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, walHooks{})
	sameRecords(t, readAll(t, w2, 0, 0), want)
	more := records(20, 40, monotonic)
	appendAll(t, w2, more)
	sameRecords(t, readAll(t, w2, 0, 0), append(append([]Record(nil), want...), more...))
	if logs.Len() == 0 {
		t.Error("cutting the zero-filled tail logged nothing; want a warning naming the file")
	}
}

// A WAL its Budget releases cuts its preallocated zeros first, so that
// tidwall, reopening the files on the next use, sees only entries.
func TestWALPreallocatedTailOnRelease(t *testing.T) {
	budget := NewBudget(1) // every WAL but the one in use is released
	const segSize = 8 << 10
	dirs := []string{t.TempDir(), t.TempDir()}
	var ws []*WAL
	for _, dir := range dirs {
		ws = append(ws, openTestWAL(t, dir, WALOptions{SegmentSize: segSize, Preallocate: true, Budget: budget}, walHooks{}))
	}
	want := records(0, 20, monotonic)
	appendSynced(t, ws[0], want, 1)
	appendSynced(t, ws[1], want, 1) // releases ws[0]
	if budget.Releases() == 0 {
		t.Fatal("the budget released nothing")
	}
	tail := segmentFiles(t, dirs[0])[0]
	if got := fileSize(t, segmentFiles(t, dirs[1])[0]); got != segSize {
		t.Fatalf("tail of the WAL in use: %d bytes; want it preallocated to %d", got, segSize)
	}
	data, err := os.ReadFile(tail)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := ScanSegment(data); err != nil || res.TornBytes != 0 {
		t.Fatalf("released WAL's tail: %+v, %v; want no zeros", res, err)
	}
	more := records(20, 30, monotonic)
	appendAll(t, ws[0], more) // reopens it
	sameRecords(t, readAll(t, ws[0], 0, 0), append(append([]Record(nil), want...), more...))
}

// appendSynced appends recs in batches of n, each followed by a Sync, as a
// log under SyncAlways does.
func appendSynced(t testing.TB, w *WAL, recs []Record, n int) {
	t.Helper()
	for len(recs) > 0 {
		k := min(n, len(recs))
		if err := w.Append(recs[:k]); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		recs = recs[k:]
	}
}

// A tail filled by a few large appends is not preallocated: the zeros
// would double what is written for little gain.
func TestWALPreallocateWaitsForSmallSyncs(t *testing.T) {
	dir := t.TempDir()
	const segSize = 64 << 10
	w := openTestWAL(t, dir, WALOptions{SegmentSize: segSize, Preallocate: true}, walHooks{})
	recs := records(0, 40, monotonic)
	appendSynced(t, w, recs[:20], 10) // two Syncs
	tail := segmentFiles(t, dir)[0]
	infos, err := w.Segments()
	if err != nil {
		t.Fatal(err)
	}
	if got := fileSize(t, tail); got != infos[0].Bytes {
		t.Fatalf("tail after 2 Syncs: %d bytes on disk, %d of records; want no zeros yet", got, infos[0].Bytes)
	}
	appendSynced(t, w, recs[20:], 1) // many small Syncs
	if got := fileSize(t, tail); got != segSize {
		t.Fatalf("tail after many small Syncs: %d bytes; want it preallocated to %d", got, segSize)
	}
}

// A WAL only written to drops tidwall's copy of each segment it fills; one
// that is read keeps it, for readers tailing it.
func TestWALDropsTheWriteCacheOnlyWithoutReaders(t *testing.T) {
	const segSize = 4 << 10
	w := openTestWAL(t, t.TempDir(), WALOptions{SegmentSize: segSize}, walHooks{})
	appendAll(t, w, records(0, 200, monotonic), 10) // fills several segments
	if n := len(w.cache); n != 0 {
		t.Fatalf("write-only WAL caches %d sealed segments; want 0", n)
	}
	recs := records(200, 400, monotonic)
	for len(recs) > 0 {
		if err := w.Append(recs[:10]); err != nil {
			t.Fatal(err)
		}
		_, next := w.Bounds()
		if _, err := w.ReadFrom(next-1, 1<<20); err != nil { // a reader tailing it
			t.Fatal(err)
		}
		recs = recs[10:]
	}
	if n := len(w.cache); n == 0 {
		t.Fatal("a WAL read while written dropped its cached segments")
	}
}
