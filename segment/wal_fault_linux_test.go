package segment

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWALFencedAfterWriteError makes a real write(2) inside tidwall/wal fail
// halfway, leaving a partial frame on disk as a full disk would: the
// process's file size limit (RLIMIT_FSIZE; Go ignores SIGXFSZ, so the write
// returns EFBIG) stands in for ENOSPC, which a test cannot cause safely.
// Every later Append and Sync must fail, reads must go on, and reopening
// must cut the partial frame and continue at the right offset.
func TestWALFencedAfterWriteError(t *testing.T) {
	dir := t.TempDir()
	opts := WALOptions{SegmentSize: 1 << 20}
	w := openTestWAL(t, dir, opts, walHooks{})
	recs := records(0, 200, monotonic)
	appendAll(t, w, recs[:50])
	files := segmentFiles(t, dir)
	tail := files[len(files)-1]
	size := fileSize(t, tail)

	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	lim := old
	lim.Cur = uint64(size + 100)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	err := w.Append(recs[50:150]) // far over 100 bytes
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); rerr != nil {
		t.Fatalf("restore RLIMIT_FSIZE: %v", rerr)
	}
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("Append over the file size limit = %v; want EFBIG", err)
	}
	if got := fileSize(t, tail); got != size+100 {
		t.Fatalf("tail is %d bytes after the failed write; want a partial frame to %d", got, size+100)
	}
	// Space is back, but the WAL stays fenced: what reached the disk is
	// unknown until it is reopened.
	for name, err := range map[string]error{
		"Append": w.Append(recs[50:150]),
		"Sync":   w.Sync(),
	} {
		if !errors.Is(err, syscall.EFBIG) {
			t.Errorf("%s after a failed write = %v; want the fencing error (EFBIG)", name, err)
		}
	}
	if _, next := w.Bounds(); next != 50 {
		t.Errorf("next after a failed append = %d; want 50", next)
	}
	sameRecords(t, readAll(t, w, 0, 1<<10), recs[:50])
	if err := w.Close(); !errors.Is(err, syscall.EFBIG) {
		t.Errorf("Close of a fenced WAL = %v; want the fencing error", err)
	}

	w = openTestWAL(t, dir, opts, walHooks{})
	if _, next := w.Bounds(); next != 50 {
		t.Fatalf("next after reopen = %d; want 50", next)
	}
	if got := fileSize(t, tail); got != size {
		t.Fatalf("tail is %d bytes after reopen; want the partial frame cut back to %d", got, size)
	}
	appendAll(t, w, recs[50:])
	sameRecords(t, readAll(t, w, 0, 1<<20), recs)
}

// openFilesIn counts this process's open file descriptors on files in dir.
func openFilesIn(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list open files: %v", err)
	}
	n := 0
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err == nil && filepath.Dir(target) == dir {
			n++
		}
	}
	return n
}

// TestWALCyclesWithoutSyncKeepFewFiles appends across many segment files
// without ever calling Sync, as a partition under SyncNever does: the WAL
// must not keep a handle open on every tail it has had, or a long-running
// log runs out of file descriptors and fences itself.
func TestWALCyclesWithoutSyncKeepFewFiles(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir, WALOptions{SegmentSize: 1 << 10}, walHooks{})
	recs := records(0, 2000, monotonic)
	for i := range recs {
		if err := w.Append(recs[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if files := len(segmentFiles(t, dir)); files < 50 {
		t.Fatalf("only %d segment files; the test needs many cycles", files)
	}
	// tidwall's handle on the tail and ours; a few more would be fine, one
	// per segment file is a leak.
	if n := openFilesIn(t, dir); n > 4 {
		t.Errorf("%d files open in the WAL's directory after many cycles without Sync; want at most 4", n)
	}
	sameRecords(t, readAll(t, w, 0, 1<<20), recs)
}
