package segment

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed for randomized segment tests (0: time-based, logged)")

// testSeed returns the seed of a randomized test and logs it, so a failure
// can be replayed with -seed.
func testSeed(t testing.TB) uint64 {
	t.Helper()
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -seed=%d)", s, s)
	return s
}

// store is the method set *WAL and *Mem share; the root package's
// partitionStore is a subset of it.
type store interface {
	Append(batch []Record) error
	Sync() error
	ReadFrom(off int64, maxBytes int) ([]Record, error)
	ReadAppend(dst []Record, off int64, maxBytes int) ([]Record, error)
	Bounds() (first, next int64)
	OffsetForTime(unixNano int64) (int64, error)
	Segments() ([]Info, error)
	DropBefore(off int64) error
	Close() error
}

var (
	_ store = (*WAL)(nil)
	_ store = (*Mem)(nil)
)

// storeKinds opens a fresh store of each kind with the given segment size,
// closed when the test ends.
var storeKinds = []struct {
	name string
	open func(t *testing.T, segmentSize int64) store
}{
	{"WAL", func(t *testing.T, segmentSize int64) store {
		w, err := OpenWAL(t.TempDir(), WALOptions{SegmentSize: segmentSize})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return w
	}},
	{"Mem", func(t *testing.T, segmentSize int64) store {
		m := NewMem(MemOptions{SegmentSize: segmentSize})
		t.Cleanup(func() { m.Close() })
		return m
	}},
}

// forEachStore runs f as a subtest for each kind of store.
func forEachStore(t *testing.T, f func(t *testing.T, open func(segmentSize int64) store)) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			f(t, func(segmentSize int64) store { return k.open(t, segmentSize) })
		})
	}
}

// testRecord is the record the tests write at offset off: keys, values and
// headers of varied sizes, with nil and empty kept apart.
func testRecord(off, t int64) Record {
	r := Record{Offset: off, Time: t}
	switch off % 5 {
	case 0:
		r.Key, r.Value = nil, nil // a tombstone without a key
	case 1:
		r.Key, r.Value = []byte{}, []byte{}
	default:
		r.Key = fmt.Appendf(nil, "key-%d", off%17)
		r.Value = bytes.Repeat([]byte{byte(off)}, int(off*37%300))
	}
	if off%3 == 0 {
		r.Headers = []Header{{Key: "trace", Value: fmt.Appendf(nil, "t%d", off)}, {Key: "nil"}, {Key: "", Value: []byte{}}}
	}
	return r
}

// records returns testRecord for offsets [from, to), with times from tm.
func records(from, to int64, tm func(int64) int64) []Record {
	var recs []Record
	for off := from; off < to; off++ {
		recs = append(recs, testRecord(off, tm(off)))
	}
	return recs
}

// monotonic is a time function that increases with the offset.
func monotonic(off int64) int64 { return 1_700_000_000_000_000_000 + off*1000 }

// appendAll appends recs in batches of the given sizes (cycling) and syncs.
func appendAll(t testing.TB, s store, recs []Record, batchSizes ...int) {
	t.Helper()
	if len(batchSizes) == 0 {
		batchSizes = []int{1, 7, 50}
	}
	for i, k := 0, 0; i < len(recs); k++ {
		n := min(batchSizes[k%len(batchSizes)], len(recs)-i)
		if err := s.Append(recs[i : i+n]); err != nil {
			t.Fatalf("Append(offsets %d..%d) = %v", recs[i].Offset, recs[i+n-1].Offset, err)
		}
		i += n
	}
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync() = %v", err)
	}
}

// readAll reads [from, next) back with ReadFrom in steps of maxBytes.
func readAll(t testing.TB, s store, from int64, maxBytes int) []Record {
	t.Helper()
	_, next := s.Bounds()
	var out []Record
	for off := from; off < next; {
		recs, err := s.ReadFrom(off, maxBytes)
		if err != nil {
			t.Fatalf("ReadFrom(%d, %d) = %v", off, maxBytes, err)
		}
		if len(recs) == 0 {
			t.Fatalf("ReadFrom(%d, %d) returned no records", off, maxBytes)
		}
		for i, r := range recs {
			if r.Offset != off+int64(i) {
				t.Fatalf("ReadFrom(%d, %d)[%d].Offset = %d; want %d", off, maxBytes, i, r.Offset, off+int64(i))
			}
		}
		out = append(out, recs...)
		off += int64(len(recs))
	}
	return out
}

// sameRecords fails the test unless got and want are equal, nil and empty
// slices apart.
func sameRecords(t testing.TB, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records; want %d", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("record %d = %+v; want %+v", i, got[i], want[i])
		}
	}
}

func TestStoreAppendRead(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(int64) store) {
		s := open(4 << 10)
		if first, next := s.Bounds(); first != 0 || next != 0 {
			t.Fatalf("new store Bounds() = %d, %d; want 0, 0", first, next)
		}
		want := records(0, 500, monotonic)
		want = append(want, Record{Offset: 500, Time: -5, Value: bytes.Repeat([]byte("big"), 3000)}) // one record over a segment
		appendAll(t, s, want)
		if first, next := s.Bounds(); first != 0 || next != 501 {
			t.Fatalf("Bounds() = %d, %d; want 0, 501", first, next)
		}
		for _, maxBytes := range []int{0, 1, 100, 4 << 10, 1 << 30} {
			sameRecords(t, readAll(t, s, 0, maxBytes), want)
		}
		// Every start offset, not just sequential ones.
		for off := int64(500); off >= 0; off -= 7 {
			recs, err := s.ReadFrom(off, 0)
			if err != nil || len(recs) != 1 {
				t.Fatalf("ReadFrom(%d, 0) = %d records, %v; want 1", off, len(recs), err)
			}
			sameRecords(t, recs, want[off:off+1])
		}
	})
}

func TestStoreReturnsOwnCopies(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(int64) store) {
		s := open(0)
		in := records(0, 20, monotonic)
		appendAll(t, s, in)
		for _, r := range in { // the store must not have kept the caller's slices
			for i := range r.Value {
				r.Value[i] ^= 0xff
			}
		}
		got, err := s.ReadFrom(0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got { // nor share its own with readers
			for i := range r.Value {
				r.Value[i] ^= 0xff
			}
		}
		sameRecords(t, readAll(t, s, 0, 1<<20), records(0, 20, monotonic))
	})
}

func TestStoreAppendRejectsBadOffsets(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(int64) store) {
		s := open(0)
		appendAll(t, s, records(0, 10, monotonic))
		bad := map[string][]Record{
			"empty":         nil,
			"behind":        records(9, 12, monotonic),
			"ahead":         records(11, 12, monotonic),
			"gap":           append(records(10, 12, monotonic), testRecord(13, 0)),
			"duplicate":     append(records(10, 12, monotonic), testRecord(11, 0)),
			"restart at 0:": records(0, 3, monotonic),
		}
		for name, batch := range bad {
			if err := s.Append(batch); err == nil {
				t.Errorf("Append(%s) = nil; want an error", name)
			}
		}
		if first, next := s.Bounds(); first != 0 || next != 10 {
			t.Fatalf("Bounds() after rejected appends = %d, %d; want 0, 10", first, next)
		}
		appendAll(t, s, records(10, 12, monotonic))
		sameRecords(t, readAll(t, s, 0, 0), records(0, 12, monotonic))
	})
}

func TestStoreReadFromBounds(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(int64) store) {
		s := open(1 << 10)
		if _, err := s.ReadFrom(0, 100); !errors.Is(err, ErrOutOfRange) {
			t.Fatalf("ReadFrom(0) of an empty store = %v; want ErrOutOfRange", err)
		}
		want := records(0, 200, monotonic)
		appendAll(t, s, want)
		for _, off := range []int64{-1, 200, 201, math.MaxInt64, math.MinInt64} {
			if _, err := s.ReadFrom(off, 100); !errors.Is(err, ErrOutOfRange) {
				t.Errorf("ReadFrom(%d) = %v; want ErrOutOfRange", off, err)
			}
		}
		// maxBytes: whole records while they fit, at least one. A WAL
		// also stops before an entry after its first that does not fit
		// whole (see takesNone), so it may return fewer.
		_, exact := s.(*Mem)
		for _, from := range []int64{0, 3, 99, 150} {
			for _, k := range []int{1, 2, 5, 20} {
				size := 0
				for _, r := range want[from : from+int64(k)] {
					size += EncodedSize(r)
				}
				for _, maxBytes := range []int{size, size + EncodedSize(want[from+int64(k)]) - 1} {
					recs, err := s.ReadFrom(from, maxBytes)
					if err != nil {
						t.Fatal(err)
					}
					if len(recs) < 1 || len(recs) > k || (exact && len(recs) != k) {
						t.Errorf("ReadFrom(%d, %d) = %d records; want %d", from, maxBytes, len(recs), k)
					}
					sameRecords(t, recs, want[from:from+int64(len(recs))])
				}
			}
			recs, err := s.ReadFrom(from, -1)
			if err != nil || len(recs) != 1 {
				t.Errorf("ReadFrom(%d, -1) = %d records, %v; want 1", from, len(recs), err)
			}
		}
		recs, err := s.ReadFrom(190, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		sameRecords(t, recs, want[190:])
	})
}

func TestStoreOffsetForTime(t *testing.T) {
	seed := testSeed(t)
	timeFuncs := map[string]func(rng *rand.Rand) func(int64) int64{
		"monotonic": func(*rand.Rand) func(int64) int64 { return monotonic },
		"random": func(rng *rand.Rand) func(int64) int64 {
			ts := make(map[int64]int64)
			return func(off int64) int64 {
				if _, ok := ts[off]; !ok {
					ts[off] = rng.Int64N(2000) - 1000
				}
				return ts[off]
			}
		},
		"mostly increasing": func(rng *rand.Rand) func(int64) int64 {
			return func(off int64) int64 { return off*10 + rng.Int64N(400) - 200 }
		},
		"decreasing": func(*rand.Rand) func(int64) int64 {
			return func(off int64) int64 { return -off }
		},
	}
	for name, mk := range timeFuncs {
		t.Run(name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, open func(int64) store) {
				rng := rand.New(rand.NewPCG(seed, 1))
				s := open(2 << 10)
				if got, err := s.OffsetForTime(0); err != nil || got != 0 {
					t.Fatalf("OffsetForTime on an empty store = %d, %v; want 0", got, err)
				}
				recs := records(0, 1500, mk(rng))
				appendAll(t, s, recs, 1, 13, 4, 100)
				check := func(first int64) {
					t.Helper()
					probes := []int64{math.MinInt64, math.MaxInt64, 0, -1, 1}
					for _, r := range recs[first:] {
						probes = append(probes, r.Time-1, r.Time, r.Time+1)
					}
					for _, ts := range probes {
						want := int64(len(recs))
						for _, r := range recs[first:] {
							if r.Time >= ts {
								want = r.Offset
								break
							}
						}
						if got, err := s.OffsetForTime(ts); err != nil || got != want {
							t.Fatalf("OffsetForTime(%d) = %d, %v; want %d", ts, got, err, want)
						}
					}
				}
				check(0)
				infos, err := s.Segments()
				if err != nil || len(infos) < 4 {
					t.Fatalf("Segments() = %d segments, %v; want several", len(infos), err)
				}
				// Dropping segments must not leave the index pointing at them, nor
				// skip what remains because of times that were dropped.
				mid := infos[len(infos)/2].FirstOffset
				if err := s.DropBefore(mid); err != nil {
					t.Fatal(err)
				}
				check(mid)
				more := records(1500, 1700, mk(rng))
				appendAll(t, s, more)
				recs = append(recs, more...)
				check(mid)
			})
		})
	}
}

func TestStoreSegments(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(int64) store) {
		s := open(1 << 10)
		if infos, err := s.Segments(); err != nil || len(infos) != 0 {
			t.Fatalf("Segments() of an empty store = %v, %v; want none", infos, err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		recs := records(0, 400, func(int64) int64 { return rng.Int64N(1e6) })
		appendAll(t, s, recs, 1, 3)
		infos, err := s.Segments()
		if err != nil {
			t.Fatal(err)
		}
		checkInfos(t, infos, recs, 0)
		if len(infos) < 10 {
			t.Errorf("Segments() = %d segments of 1 KiB for about 60 KiB; want more", len(infos))
		}
	})
}

// checkInfos checks that infos tile [first, len(recs)) in order, with the
// right MaxTime and plausible sizes.
func checkInfos(t testing.TB, infos []Info, recs []Record, first int64) {
	t.Helper()
	off := first
	for i, info := range infos {
		if info.FirstOffset != off || info.NextOffset <= info.FirstOffset || info.Bytes <= 0 {
			t.Fatalf("Segments()[%d] = %+v; want it to start at %d, be non-empty and take bytes", i, info, off)
		}
		maxTime := int64(math.MinInt64)
		for _, r := range recs[info.FirstOffset:info.NextOffset] {
			maxTime = max(maxTime, r.Time)
		}
		if info.MaxTime != maxTime {
			t.Fatalf("Segments()[%d].MaxTime = %d; want %d", i, info.MaxTime, maxTime)
		}
		off = info.NextOffset
	}
	if off != int64(len(recs)) {
		t.Fatalf("Segments() end at %d; want %d", off, len(recs))
	}
}

func TestStoreDropBefore(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(int64) store) {
		s := open(1 << 10)
		if err := s.DropBefore(0); err != nil {
			t.Fatalf("DropBefore(0) of an empty store = %v; want nil (nothing to do)", err)
		}
		if err := s.DropBefore(1); err == nil {
			t.Fatal("DropBefore(1) of an empty store = nil; want an error")
		}
		recs := records(0, 300, monotonic)
		appendAll(t, s, recs)
		infos, err := s.Segments()
		if err != nil {
			t.Fatal(err)
		}
		newest := infos[len(infos)-1].FirstOffset
		rejected := []int64{-1, infos[1].FirstOffset + 1, infos[1].NextOffset - 1, newest + 1, 299, 300, 301}
		for _, off := range rejected {
			if err := s.DropBefore(off); err == nil {
				t.Errorf("DropBefore(%d) = nil; want an error (segments start at %v)", off, firsts(infos))
			}
			if after, _ := s.Segments(); !reflect.DeepEqual(after, infos) {
				t.Fatalf("rejected DropBefore(%d) changed the segments to %v", off, after)
			}
		}
		if err := s.DropBefore(-1); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("DropBefore(-1) = %v; want ErrOutOfRange", err)
		}
		if err := s.DropBefore(0); err != nil {
			t.Fatalf("DropBefore(first) = %v; want nil", err)
		}
		// Drop one segment at a time, up to the newest.
		for i := 1; i < len(infos); i++ {
			off := infos[i].FirstOffset
			if err := s.DropBefore(off); err != nil {
				t.Fatalf("DropBefore(%d) = %v", off, err)
			}
			if first, next := s.Bounds(); first != off || next != 300 {
				t.Fatalf("Bounds() after DropBefore(%d) = %d, %d; want %d, 300", off, first, next, off)
			}
			if _, err := s.ReadFrom(off-1, 0); !errors.Is(err, ErrOutOfRange) {
				t.Fatalf("ReadFrom(%d) after DropBefore(%d) = %v; want ErrOutOfRange", off-1, off, err)
			}
			got, err := s.Segments()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, infos[i:]) {
				t.Fatalf("Segments() after DropBefore(%d) = %v; want %v", off, got, infos[i:])
			}
			sameRecords(t, readAll(t, s, off, 1<<10), recs[off:])
		}
		if err := s.DropBefore(300); err == nil {
			t.Fatal("DropBefore(next) = nil; want an error: the newest record stays")
		}
		// Appends continue at the same offsets.
		more := records(300, 400, monotonic)
		appendAll(t, s, more)
		sameRecords(t, readAll(t, s, newest, 1<<20), append(recs[newest:], more...))
	})
}

// firsts lists the FirstOffset of each segment.
func firsts(infos []Info) []int64 {
	var out []int64
	for _, i := range infos {
		out = append(out, i.FirstOffset)
	}
	return out
}

func TestStoreClosed(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(int64) store) {
		s := open(0)
		appendAll(t, s, records(0, 10, monotonic))
		if err := s.Close(); err != nil {
			t.Fatalf("Close() = %v", err)
		}
		checks := map[string]error{
			"Append":        s.Append(records(10, 11, monotonic)),
			"Sync":          s.Sync(),
			"DropBefore":    s.DropBefore(0),
			"Close (again)": s.Close(),
		}
		_, checks["ReadFrom"] = s.ReadFrom(0, 10)
		_, checks["OffsetForTime"] = s.OffsetForTime(0)
		_, checks["Segments"] = s.Segments()
		for name, err := range checks {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s after Close = %v; want ErrClosed", name, err)
			}
		}
	})
}

// TestStoreConcurrentReads runs 8 readers against one appender, a dropper
// and a second syncer: tidwall/wal's Read is not safe for concurrent use, so
// this is a test of the locking around it. Run it with -race.
func TestStoreConcurrentReads(t *testing.T) {
	const total = 3000
	forEachStore(t, func(t *testing.T, open func(int64) store) {
		s := open(2 << 10)
		appendAll(t, s, records(0, 100, monotonic))
		done := make(chan struct{})
		errs := make(chan error, 16)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(g), 3))
				for {
					select {
					case <-done:
						return
					default:
					}
					first, next := s.Bounds()
					off := first + rng.Int64N(next-first)
					var err error
					switch g % 4 {
					case 0, 1: // sequential scans from a random point
						for off < next && err == nil {
							var recs []Record
							recs, err = s.ReadFrom(off, 512)
							for _, r := range recs {
								if !reflect.DeepEqual(r, testRecord(r.Offset, monotonic(r.Offset))) {
									err = fmt.Errorf("ReadFrom(%d) returned %+v; want the record written", off, r)
									break
								}
							}
							off += int64(len(recs))
						}
					case 2:
						var got int64
						got, err = s.OffsetForTime(monotonic(off))
						// The answer is max(off, first at the time): retention runs.
						if first, _ := s.Bounds(); err == nil && (got < off || got != off && got > first) {
							err = fmt.Errorf("OffsetForTime(time of %d) = %d; first is now %d", off, got, first)
						}
					case 3:
						_, err = s.Segments()
					}
					if errors.Is(err, ErrOutOfRange) {
						err = nil // dropped meanwhile
					}
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Go(func() { // retention, now and then up to the newest segment
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				infos, err := s.Segments()
				switch {
				case err != nil:
				case len(infos) > 8 && i%5 == 0:
					err = s.DropBefore(infos[len(infos)-1].FirstOffset)
				case len(infos) > 8:
					err = s.DropBefore(infos[2].FirstOffset)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() { // a second syncer: all methods are safe for concurrent use
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := s.Sync(); err != nil {
					errs <- err
					return
				}
			}
		})
		for off := int64(100); off < total; off += 10 {
			if err := s.Append(records(off, off+10, monotonic)); err != nil {
				t.Error(err)
				break
			}
			if off%100 == 0 {
				if err := s.Sync(); err != nil {
					t.Error(err)
					break
				}
			}
		}
		close(done)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		first, next := s.Bounds()
		if next != total || first == 0 {
			t.Errorf("Bounds() = %d, %d; want some dropped and next %d", first, next, total)
		}
		sameRecords(t, readAll(t, s, first, 1<<20), records(first, total, monotonic))
	})
}

// TestStoresAgree gives a WAL and a Mem the same appends and drops: they
// must describe the same segments, so retention treats InMemory logs as it
// treats files.
func TestStoresAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 4))
	w := storeKinds[0].open(t, 1<<10)
	m := storeKinds[1].open(t, 1<<10)
	var next int64
	for step := range 200 {
		n := 1 + rng.Int64N(20)
		if step%50 == 0 {
			n = 2000 // one Append over many segments
		}
		batch := records(next, next+n, func(off int64) int64 { return rng.Int64N(1e9) })
		for _, s := range []store{w, m} {
			if err := s.Append(batch); err != nil {
				t.Fatal(err)
			}
		}
		next += n
		wi, werr := w.Segments()
		mi, merr := m.Segments()
		if werr != nil || merr != nil || !reflect.DeepEqual(wi, mi) {
			t.Fatalf("step %d: WAL Segments() = %v, %v\nMem Segments() = %v, %v", step, wi, werr, mi, merr)
		}
		if step%30 == 29 {
			off := wi[len(wi)/2].FirstOffset
			for _, s := range []store{w, m} {
				if err := s.DropBefore(off); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// TestStoreLargeAppend appends 3 MiB in one call: it is split into batches
// of at most 1 MiB, which fill several 1 MiB segments.
func TestStoreLargeAppend(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(int64) store) {
		s := open(0)
		recs := make([]Record, 3000)
		for i := range recs {
			recs[i] = Record{Offset: int64(i), Time: int64(i), Value: bytes.Repeat([]byte{byte(i)}, 1<<10)}
		}
		appendAll(t, s, recs, len(recs))
		infos, err := s.Segments()
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) < 2 {
			t.Errorf("3 MiB in one Append filled %d segment of 1 MiB; want several", len(infos))
		}
		checkInfos(t, infos, recs, 0)
		sameRecords(t, readAll(t, s, 0, 256<<10), recs)
	})
}

// ReadAppend with one reused slice, as a replay does, returns what
// ReadFrom does: every field of every record is written, so nothing of a
// previous read (headers above all) shows through, and records already in
// dst stay.
func TestStoreReadAppendReusesItsSlice(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(int64) store) {
		s := open(4 << 10)
		want := records(0, 300, monotonic)
		appendAll(t, s, want, 40)
		junk := Record{Offset: -1, Time: -1, Key: []byte("junk"), Value: []byte("junk"),
			Headers: []Header{{Key: "junk", Value: []byte("junk")}}}
		for _, maxBytes := range []int{1, 700, 5000, 1 << 20} {
			buf := slices.Repeat([]Record{junk}, 400) // capacity for any read, full of junk
			var got []Record
			for off := int64(0); off < 300; {
				recs, err := s.ReadAppend(buf[:0], off, maxBytes)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, cloneRecords(recs)...) // before buf is reused
				off += int64(len(recs))
			}
			sameRecords(t, got, want)
		}
		head := []Record{junk}
		recs, err := s.ReadAppend(head, 5, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) < 2 || recs[0].Offset != -1 {
			t.Fatalf("ReadAppend dropped what dst held: %d records, first offset %d", len(recs), recs[0].Offset)
		}
		sameRecords(t, recs[1:], want[5:5+len(recs)-1])
	})
}
