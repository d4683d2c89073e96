package segment

import (
	"errors"
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
