package segment

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

// TestWALSharedEntryReadersOwnTheirRecords has many readers take one large
// entry in small pieces, so that it is decoded once and shared, and each
// overwrite every byte it got: no reader may see another's writes, and
// every reader gets the records as written. Run with -race, it also proves
// that nothing a reader gets aliases the shared entry or another reader.
func TestWALSharedEntryReadersOwnTheirRecords(t *testing.T) {
	w := openTestWAL(t, t.TempDir(), WALOptions{Budget: NewBudget(64 << 20)}, walHooks{})
	want := records(0, 600, monotonic)
	appendAll(t, w, want, len(want)) // one entry
	const readers = 8
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for r := range readers {
		wg.Go(func() {
			for off := int64(r); off < int64(len(want)); {
				recs, err := w.ReadFrom(off, 300+r*100)
				if err != nil {
					errs <- err
					return
				}
				for i := range recs {
					g, x := &recs[i], &want[off+int64(i)]
					if g.Offset != x.Offset || string(g.Key) != string(x.Key) || string(g.Value) != string(x.Value) || len(g.Headers) != len(x.Headers) {
						errs <- fmt.Errorf("reader %d: ReadFrom(%d)[%d] = %+v; want %+v", r, off, i, *g, *x)
						return
					}
					for j := range g.Headers {
						if g.Headers[j].Key != x.Headers[j].Key || string(g.Headers[j].Value) != string(x.Headers[j].Value) {
							errs <- fmt.Errorf("reader %d: offset %d header %d = %+v; want %+v", r, g.Offset, j, g.Headers[j], x.Headers[j])
							return
						}
						scribble(g.Headers[j].Value)
						g.Headers[j] = Header{Key: "mine"}
					}
					scribble(g.Key)
					scribble(g.Value)
				}
				off += int64(len(recs))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	w.mu.Lock()
	shared := w.sharedLocked(w.segs[0].index)
	w.mu.Unlock()
	if shared == nil {
		t.Fatal("no shared entry after partial reads of one entry by several readers")
	}
	sameRecords(t, readAll(t, w, 0, 1<<20), want)
	checkAccounting(t, w.opts.Budget, []*WAL{w})

	// A whole entry read from its start is the reader's own: not shared.
	more := records(600, 700, monotonic)
	appendAll(t, w, more, len(more))
	recs, err := w.ReadFrom(600, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, recs, more)
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := w.sharedLocked(w.lastIndex); e != nil {
		t.Errorf("entry read whole was shared")
	}
}

func scribble(b []byte) {
	for i := range b {
		b[i] ^= 0xff
	}
}

// TestWALSharedEntryNotPinnedByLargeRecord has a reader with a small budget
// reach an entry holding one large record after taking some small ones. It
// takes none of it (it does not fit), so the WAL has no reason to keep that
// entry decoded: a shared entry pins its memory until four other entries
// displace it, and records of many MiB would break the bound of about
// 2 MiB per shared entry that WALOptions documents.
func TestWALSharedEntryNotPinnedByLargeRecord(t *testing.T) {
	w := openTestWAL(t, t.TempDir(), WALOptions{SegmentSize: 64 << 20}, walHooks{})
	var small []Record
	for off := range int64(10) {
		small = append(small, Record{Offset: off, Time: monotonic(off), Value: []byte("v")})
	}
	big := Record{Offset: 10, Time: monotonic(10), Value: bytes.Repeat([]byte{7}, 8<<20)}
	appendAll(t, w, small, len(small))
	appendAll(t, w, []Record{big})
	recs, err := w.ReadFrom(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, recs, small)
	w.mu.Lock()
	held := w.sharedBytesLocked()
	w.mu.Unlock()
	if held > 1<<20 {
		t.Errorf("shared entries hold %d bytes after a read that took none of the large record; want it not kept", held)
	}
	recs, err = w.ReadFrom(10, 1000) // a record too large for the budget is still returned alone
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, recs, []Record{big})
}
