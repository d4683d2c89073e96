package segment

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// The store tests also run on a WAL that its Budget releases before every
// call: each one then reopens the *wal.Log (or must not, for Bounds, Sync
// and Segments).
func init() {
	storeKinds = append(storeKinds, struct {
		name string
		open func(t *testing.T, segmentSize int64) store
	}{"WAL/released", func(t *testing.T, segmentSize int64) store {
		w, err := OpenWAL(t.TempDir(), WALOptions{SegmentSize: segmentSize, Budget: NewBudget(1 << 40)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return releasing{w, t}
	}})
}

// releasing is a WAL released before every call.
type releasing struct {
	w *WAL
	t testing.TB
}

func (r releasing) Append(batch []Record) error { release(r.t, r.w); return r.w.Append(batch) }
func (r releasing) Sync() error                 { release(r.t, r.w); return r.w.Sync() }
func (r releasing) ReadFrom(off int64, maxBytes int) ([]Record, error) {
	release(r.t, r.w)
	return r.w.ReadFrom(off, maxBytes)
}
func (r releasing) ReadAppend(dst []Record, off int64, maxBytes int) ([]Record, error) {
	release(r.t, r.w)
	return r.w.ReadAppend(dst, off, maxBytes)
}
func (r releasing) Bounds() (int64, int64) { release(r.t, r.w); return r.w.Bounds() }
func (r releasing) OffsetForTime(unixNano int64) (int64, error) {
	release(r.t, r.w)
	return r.w.OffsetForTime(unixNano)
}
func (r releasing) Segments() ([]Info, error)  { release(r.t, r.w); return r.w.Segments() }
func (r releasing) DropBefore(off int64) error { release(r.t, r.w); return r.w.DropBefore(off) }
func (r releasing) Close() error               { release(r.t, r.w); return r.w.Close() }

// release releases w as its Budget does, whatever the Budget's total.
func release(t testing.TB, w *WAL) {
	t.Helper()
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.log == nil || w.closed || w.failed != nil {
		return
	}
	b := w.opts.Budget
	b.mu.Lock()
	b.removeLocked(w)
	b.mu.Unlock()
	b.used.Add(-w.resident)
	w.resident = 0
	w.releaseLocked()
	if w.failed != nil {
		t.Errorf("release: %v", w.failed)
	}
}

// isReleased reports whether w holds no *wal.Log.
func isReleased(w *WAL) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.log == nil
}

// checkAccounting fails the test unless b's total is the sum of what its
// loaded WALs account, and each of those is what its tables say.
func checkAccounting(t testing.TB, b *Budget, wals []*WAL) {
	t.Helper()
	var sum int64
	loaded := 0
	for _, w := range wals {
		w.mu.Lock()
		if w.log != nil {
			loaded++
			want := w.tailBytes + w.sharedBytesLocked()
			for _, c := range w.cache {
				want += c.bytes
			}
			want = max(want, loadedOverhead) // a loaded WAL costs at least that
			if w.resident != want {
				t.Errorf("%s accounts %d bytes; want %d (tail %d, cache %v, shared %d)", w.dir, w.resident, want, w.tailBytes, w.cache, w.sharedBytesLocked())
			}
		} else if w.resident != 0 {
			t.Errorf("released %s accounts %d bytes; want 0", w.dir, w.resident)
		}
		sum += w.resident
		w.mu.Unlock()
	}
	if got := b.Used(); got != sum {
		t.Errorf("Budget.Used() = %d; want %d, the sum over its WALs", got, sum)
	}
	if got := b.Loaded(); got != loaded {
		t.Errorf("Budget.Loaded() = %d; want %d", got, loaded)
	}
}

func TestBudgetBoundsResidentBytes(t *testing.T) {
	const (
		nWALs   = 20
		segSize = 4 << 10
		budget  = 3 * segSize
	)
	b := NewBudget(budget)
	// One WAL in use at a time may exceed the budget by its tail (up to
	// SegmentSize plus one entry) and its cached segment.
	limit := int64(budget + 2*segSize + 2<<10)
	wals := make([]*WAL, nWALs)
	want := make([][]Record, nWALs)
	for i := range wals {
		wals[i] = openTestWAL(t, t.TempDir(), WALOptions{SegmentSize: segSize, Budget: b}, walHooks{})
	}
	if got := b.Used(); got != 0 {
		t.Fatalf("Used() after opening = %d; want 0: a new WAL starts released", got)
	}
	rng := rand.New(rand.NewPCG(testSeed(t), 0))
	maxUsed := int64(0)
	for round := range 60 {
		for i, w := range wals {
			_, next := w.Bounds()
			n := 1 + rng.IntN(8)
			batch := records(next, next+int64(n), monotonic)
			if err := w.Append(batch); err != nil {
				t.Fatalf("round %d: WAL %d: Append = %v", round, i, err)
			}
			want[i] = append(want[i], batch...)
			if round%7 == 0 {
				if err := w.Sync(); err != nil {
					t.Fatalf("Sync = %v", err)
				}
			}
			maxUsed = max(maxUsed, b.Used())
			if got := b.Used(); got > limit {
				t.Fatalf("round %d: Used() = %d after an Append; want <= %d", round, got, limit)
			}
		}
	}
	checkAccounting(t, b, wals)
	if got := b.Loaded(); got >= nWALs/2 {
		t.Errorf("Loaded() = %d of %d WALs; want few with a budget of %d bytes", got, nWALs, budget)
	}
	for i, w := range wals {
		sameRecords(t, readAll(t, w, 0, 1<<10), want[i])
		if got := b.Used(); got > limit {
			t.Fatalf("Used() = %d after reading WAL %d; want <= %d", got, i, limit)
		}
	}
	checkAccounting(t, b, wals)
	t.Logf("budget %d, peak Used %d, loaded at the end %d of %d", budget, maxUsed, b.Loaded(), nWALs)
	for _, w := range wals {
		if err := w.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
	}
	if b.Used() != 0 || b.Loaded() != 0 {
		t.Fatalf("after Close of every WAL: Used() = %d, Loaded() = %d; want 0, 0", b.Used(), b.Loaded())
	}
}

func TestBudgetReleasedWALReopens(t *testing.T) {
	dir := t.TempDir()
	b := NewBudget(1 << 40)
	w := openTestWAL(t, dir, WALOptions{SegmentSize: 1 << 10, Budget: b}, walHooks{})
	if !isReleased(w) {
		t.Fatal("a WAL opened with a Budget is loaded; want it released until used")
	}
	recs := records(0, 300, monotonic)
	appendAll(t, w, recs[:200])
	if isReleased(w) {
		t.Fatal("WAL released after Append with a large budget")
	}

	// Append after a release continues the offsets.
	release(t, w)
	appendAll(t, w, recs[200:])
	checkTableMatchesDisk(t, w, dir)
	if _, next := w.Bounds(); next != 300 {
		t.Fatalf("Bounds() next = %d; want 300", next)
	}

	// Calls that need no data do not reopen.
	release(t, w)
	if err := w.Sync(); err != nil {
		t.Fatalf("Sync of a released WAL = %v", err)
	}
	infos, err := w.Segments()
	if err != nil {
		t.Fatalf("Segments of a released WAL = %v", err)
	}
	checkInfos(t, infos, recs, 0)
	if off, err := w.OffsetForTime(monotonic(1000)); err != nil || off != 300 {
		t.Fatalf("OffsetForTime(past the end) = %d, %v; want 300, nil", off, err)
	}
	if err := w.DropBefore(0); err != nil {
		t.Fatalf("DropBefore(first) = %v", err)
	}
	if !isReleased(w) {
		t.Fatal("Sync, Segments, OffsetForTime past the end or a no-op DropBefore reopened the WAL")
	}
	if b.Used() != 0 {
		t.Fatalf("Used() = %d with the only WAL released; want 0", b.Used())
	}

	// Calls that need data reopen it.
	if off, err := w.OffsetForTime(monotonic(123)); err != nil || off != 123 {
		t.Fatalf("OffsetForTime(time of 123) on a released WAL = %d, %v; want 123, nil", off, err)
	}
	release(t, w)
	sameRecords(t, readAll(t, w, 0, 4<<10), recs)
	release(t, w)
	cut := infos[2].FirstOffset
	if err := w.DropBefore(cut); err != nil {
		t.Fatalf("DropBefore(%d) on a released WAL = %v", cut, err)
	}
	checkTableMatchesDisk(t, w, dir)
	sameRecords(t, readAll(t, w, cut, 4<<10), recs[cut:])
	checkAccounting(t, b, []*WAL{w})

	// A released WAL closes cleanly and reopens with everything.
	more := records(300, 320, monotonic)
	appendAll(t, w, more)
	release(t, w)
	if err := w.Close(); err != nil {
		t.Fatalf("Close of a released WAL = %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close = %v; want ErrClosed", err)
	}
	if _, err := w.ReadFrom(cut, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("ReadFrom after Close = %v; want ErrClosed", err)
	}
	if b.Used() != 0 || b.Loaded() != 0 {
		t.Fatalf("after Close: Used() = %d, Loaded() = %d; want 0, 0", b.Used(), b.Loaded())
	}
	w2 := openTestWAL(t, dir, WALOptions{SegmentSize: 1 << 10}, walHooks{})
	sameRecords(t, readAll(t, w2, cut, 4<<10), append(slices.Clone(recs[cut:]), more...))
}

func TestBudgetFailedReopenIsSticky(t *testing.T) {
	for _, damage := range []struct {
		name string
		do   func(t *testing.T, dir string)
	}{
		{"dir removed", func(t *testing.T, dir string) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		}},
		{"tail grown", func(t *testing.T, dir string) {
			files := segmentFiles(t, dir)
			f, err := os.OpenFile(files[len(files)-1], os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(make([]byte, 100))
			f.Close()
		}},
		{"stray file", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, segmentName(1<<40)), []byte("x"), 0o640); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(damage.name, func(t *testing.T) {
			dir := t.TempDir()
			w := openTestWAL(t, dir, WALOptions{SegmentSize: 1 << 10, Budget: NewBudget(1 << 40)}, walHooks{})
			recs := records(0, 100, monotonic)
			appendAll(t, w, recs)
			release(t, w)
			damage.do(t, dir)

			err := w.Append(records(100, 101, monotonic))
			if err == nil {
				t.Fatal("Append after the files changed under a released WAL = nil; want an error")
			}
			if err2 := w.Append(records(100, 101, monotonic)); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("second Append = %v; want the same sticky error %v", err2, err)
			}
			if _, err2 := w.ReadFrom(0, 0); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("ReadFrom = %v; want the sticky error %v", err2, err)
			}
			if err2 := w.Sync(); err2 == nil {
				t.Fatal("Sync of a WAL that failed to reopen = nil; want the sticky error")
			}
			if first, next := w.Bounds(); first != 0 || next != 100 {
				t.Fatalf("Bounds() = %d, %d; want 0, 100", first, next)
			}
			if err2 := w.Close(); err2 == nil {
				t.Fatal("Close of a WAL that failed to reopen = nil; want the sticky error")
			}
			if damage.name == "dir removed" {
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("a failed reopen recreated %s (%v)", dir, err)
				}
			}
		})
	}
}

// Appenders and readers on 16 WALs whose budget holds about one tail, so
// WALs release each other all the time. Run it with -race.
func TestBudgetConcurrentEviction(t *testing.T) {
	const (
		nWALs   = 16
		segSize = 2 << 10
		batches = 150
	)
	b := NewBudget(segSize)
	wals := make([]*WAL, nWALs)
	for i := range wals {
		wals[i] = openTestWAL(t, t.TempDir(), WALOptions{SegmentSize: segSize, Budget: b}, noFsync)
	}
	seed := testSeed(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4*nWALs)
	for i, w := range wals {
		wg.Add(3)
		go func() { // the only appender of w, as a commit loop
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			for range batches {
				_, next := w.Bounds()
				if err := w.Append(records(next, next+1+int64(rng.IntN(5)), monotonic)); err != nil {
					errs <- fmt.Errorf("WAL %d: Append: %w", i, err)
					return
				}
				if rng.IntN(4) == 0 {
					if err := w.Sync(); err != nil {
						errs <- fmt.Errorf("WAL %d: Sync: %w", i, err)
						return
					}
				}
			}
		}()
		go func() { // a reader following the appender
			defer wg.Done()
			off := int64(0)
			for off < batches {
				_, next := w.Bounds()
				if off >= next {
					runtime.Gosched() // wait for the appender
					continue
				}
				recs, err := w.ReadFrom(off, 512)
				if err != nil {
					errs <- fmt.Errorf("WAL %d: ReadFrom(%d): %w", i, off, err)
					return
				}
				for k, r := range recs {
					if want := testRecord(off+int64(k), monotonic(off+int64(k))); !reflect.DeepEqual(r, want) {
						errs <- fmt.Errorf("WAL %d: ReadFrom(%d)[%d] = %+v; want %+v", i, off, k, r, want)
						return
					}
				}
				off += int64(len(recs))
			}
		}()
		go func() { // random reads and the calls that need no data
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(100+i)))
			for range 60 {
				_, next := w.Bounds()
				if next == 0 {
					continue
				}
				off := rng.Int64N(next)
				if got, err := w.OffsetForTime(monotonic(off)); err != nil || got != off {
					errs <- fmt.Errorf("WAL %d: OffsetForTime(time of %d) = %d, %v", i, off, got, err)
					return
				}
				if _, err := w.Segments(); err != nil {
					errs <- fmt.Errorf("WAL %d: Segments: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkAccounting(t, b, wals)
	t.Logf("%d releases", b.Releases())
	if b.Releases() < 4*nWALs {
		t.Errorf("Releases() = %d; want WALs released all the time", b.Releases())
	}
	for i, w := range wals {
		_, next := w.Bounds()
		sameRecords(t, readAll(t, w, 0, 1<<10), records(0, next, monotonic))
		if err := w.Close(); err != nil {
			t.Errorf("WAL %d: Close = %v", i, err)
		}
	}
	if b.Used() != 0 || b.Loaded() != 0 {
		t.Fatalf("after Close: Used() = %d, Loaded() = %d; want 0, 0", b.Used(), b.Loaded())
	}
}

func TestBudgetOpenStartsReleased(t *testing.T) {
	b := NewBudget(1 << 40)
	dirs := make([]string, 5)
	for i := range dirs {
		dirs[i] = t.TempDir()
		buildLog(t, dirs[i], WALOptions{SegmentSize: 1 << 10}, 200)
	}
	for _, dir := range dirs {
		w := openTestWAL(t, dir, WALOptions{SegmentSize: 1 << 10, Budget: b}, walHooks{})
		if first, next := w.Bounds(); first != 0 || next != 200 {
			t.Fatalf("Bounds() = %d, %d; want 0, 200", first, next)
		}
	}
	if b.Used() != 0 || b.Loaded() != 0 {
		t.Fatalf("after OpenWAL: Used() = %d, Loaded() = %d; want 0, 0", b.Used(), b.Loaded())
	}
}
