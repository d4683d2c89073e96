//go:build linux

package eventlog_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/eventlog/eventlog"
)

// TestDiskFull fills a real, small file system (an 8 MiB tmpfs) until
// Produce fails, then frees space and reopens. It checks the promises of
// ErrNoSpace and ErrFenced on the kernel's own ENOSPC, partial writes
// included: the failure is reported as both, nothing acknowledged is lost,
// the partition acknowledges nothing more until reopened, and after a
// reopen appends continue at the next offset. It needs to mount a tmpfs
// (root, or CAP_SYS_ADMIN) and is skipped otherwise.
func TestDiskFull(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     *eventlog.Options
		min, max int // value sizes
	}{
		// Values of assorted sizes: segment files fill at odd places, and
		// the failing write is often partial.
		{"default options", nil, 3000, 9000},
		// The disk often fills right after tidwall/wal starts a new file.
		{"small segments", &eventlog.Options{SegmentSize: 16 << 10}, 3000, 9000},
		{"big records", &eventlog.Options{MaxRecordSize: 1 << 20}, 100_000, 700_000},
	} {
		t.Run(tc.name, func(t *testing.T) { diskFull(t, tc.opts, tc.min, tc.max) })
	}
}

func diskFull(t *testing.T, opts *eventlog.Options, minSize, maxSize int) {
	dir := mountTmpfs(t, "8m")
	logDir := filepath.Join(dir, "log")
	// A filler file taken before the log fills the rest, freed later.
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}

	// openDir and newProducer close what they open when the test ends,
	// before the tmpfs is unmounted, even if it fails half way.
	l := openDir(t, logDir, opts)
	createTopic(t, l, "full", eventlog.TopicConfig{})
	p := newProducer(t, l, nil)
	value := func(i int) []byte {
		return bytes.Repeat([]byte{byte(i)}, minSize+i*7919%(maxSize-minSize))
	}
	var acked []eventlog.Record
	var full error
	for i := 0; full == nil; i++ {
		if i > 10_000 { // 8 MiB hold far fewer
			t.Fatalf("%d records on an 8 MiB file system and no error", i)
		}
		rec, err := p.Produce(t.Context(), eventlog.Record{Topic: "full", Key: []byte(itoa(i)), Value: value(i)})
		if err != nil {
			full = err
			break
		}
		if rec.Offset != int64(i) {
			t.Fatalf("record %d acknowledged at offset %d", i, rec.Offset)
		}
		acked = append(acked, rec)
	}
	t.Logf("disk full after %d records: %v", len(acked), full)
	if !errors.Is(full, eventlog.ErrNoSpace) || !errors.Is(full, eventlog.ErrFenced) {
		t.Fatalf("Produce on a full disk = %v; want ErrNoSpace and ErrFenced", full)
	}
	if len(acked) == 0 {
		t.Fatal("nothing was acknowledged before the disk filled")
	}

	check := func(l *eventlog.Log, when string) {
		t.Helper()
		part := partition(t, l, "full", 0)
		recs := readAll(t, part, 0)
		if len(recs) < len(acked) {
			t.Fatalf("%s: %d records, want at least the %d acknowledged", when, len(recs), len(acked))
		}
		if !slices.Equal(offsets(recs), seq(0, int64(len(recs)))) {
			t.Fatalf("%s: offsets %v are not contiguous from 0", when, offsets(recs))
		}
		for i, r := range recs {
			if !bytes.Equal(r.Key, []byte(itoa(i))) || !bytes.Equal(r.Value, value(i)) {
				t.Errorf("%s: record %d has key %q and %d value bytes, not what was produced", when, i, r.Key, len(r.Value))
			}
		}
	}
	check(l, "fenced, before reopen")
	if got := partition(t, l, "full", 0).NextOffset(); got != int64(len(acked)) {
		t.Errorf("fenced partition NextOffset = %d, want %d: only acknowledged records are visible", got, len(acked))
	}

	// Fenced: even once space is free again, nothing more is acknowledged
	// before a reopen.
	if _, err := p.Produce(t.Context(), eventlog.Record{Topic: "full", Value: []byte("small")}); !errors.Is(err, eventlog.ErrFenced) {
		t.Errorf("Produce after the disk filled = %v; want ErrFenced", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Produce(t.Context(), eventlog.Record{Topic: "full", Value: []byte("small")}); !errors.Is(err, eventlog.ErrFenced) || !errors.Is(err, eventlog.ErrNoSpace) {
		t.Errorf("Produce after space was freed, before reopen = %v; want ErrFenced wrapping ErrNoSpace", err)
	}
	p.Close()
	if err := l.Close(); err != nil {
		t.Logf("Close of the fenced log = %v (allowed)", err)
	}

	l = openDir(t, logDir, opts)
	check(l, "after reopen")
	part := partition(t, l, "full", 0)
	next := part.NextOffset()
	t.Logf("after reopen: NextOffset %d (%d acknowledged)", next, len(acked))
	p = newProducer(t, l, nil)
	rec, err := p.Produce(t.Context(), eventlog.Record{Topic: "full", Key: []byte(itoa(int(next))), Value: value(int(next))})
	if err != nil || rec.Offset != next {
		t.Fatalf("Produce after reopen = offset %d, %v; want %d, nil", rec.Offset, err, next)
	}
	check(l, "after reopen and a new record")
	if got := len(readAll(t, part, 0)); int64(got) != next+1 {
		t.Errorf("after reopen and a new record: %d records, want %d", got, next+1)
	}
}

// mountTmpfs mounts a tmpfs of the given size on a new directory, which
// it unmounts when the test ends. It skips the test if mounting fails.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a %s tmpfs to fill (needs root or CAP_SYS_ADMIN): %v: %s", size, err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		// Runs before t.TempDir's own cleanup removes the directory.
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}
