package segment

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecodeBatch checks DecodeBatch against its invariants, for any input:
//   - it never panics;
//   - every error wraps ErrCorrupt, and DecodeHeader fails too or agrees;
//   - whatever decodes re-encodes to the very same bytes (one encoding per
//     batch), and DecodeHeader returns the decoded batch's header.
//
// Random bytes almost never pass the checksum, so each input is also tried
// with its checksum recomputed: that reaches the record parser behind it.
func FuzzDecodeBatch(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, BatchOverhead))
	f.Add(AppendBatch(nil, []Record{{Offset: 7, Time: 1, Key: []byte("k"), Value: []byte("v")}}))
	f.Add(AppendBatch(nil, []Record{{Offset: 0}, {Offset: 1, Headers: []Header{{Key: "h"}}}}))
	f.Add(AppendBatch(nil, sampleBatch(3)))
	f.Add(AppendBatch(nil, manyRecords(20, 100)))
	f.Add(AppendBatch(nil, []Record{{Offset: 1 << 40, Time: -5, Key: []byte{}, Value: []byte{}, Headers: []Header{{Key: "a", Value: []byte{}}, {Key: "a"}}}}))

	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
		if len(data) >= 4 {
			checkDecode(t, reseal(bytes.Clone(data)))
		}
	})
}

// checkDecode checks the invariants of FuzzDecodeBatch on data.
func checkDecode(t *testing.T, data []byte) {
	t.Helper()
	recs, err := DecodeBatch(data) // must never panic, whatever data is
	h, herr := DecodeHeader(data)
	if _, ok := validHeader(data); ok != (herr == nil) {
		t.Fatalf("validHeader = %t; DecodeHeader error = %v", ok, herr)
	}
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("DecodeBatch error %q does not wrap ErrCorrupt", err)
		}
		if herr != nil && !errors.Is(herr, ErrCorrupt) {
			t.Fatalf("DecodeHeader error %q does not wrap ErrCorrupt", herr)
		}
		return
	}
	if herr != nil {
		t.Fatalf("DecodeHeader = %v after DecodeBatch succeeded", herr)
	}
	maxTime := recs[0].Time
	for i, r := range recs {
		maxTime = max(maxTime, r.Time)
		if r.Offset != recs[0].Offset+int64(i) {
			t.Fatalf("record %d has offset %d; want %d", i, r.Offset, recs[0].Offset+int64(i))
		}
	}
	if want := (BatchHeader{FirstOffset: recs[0].Offset, Count: len(recs), MaxTime: maxTime}); h != want {
		t.Fatalf("DecodeHeader = %+v; want %+v", h, want)
	}
	// Anything that decodes re-encodes to the very same bytes: a batch
	// has one encoding, so a checksum over it means one thing.
	if again := AppendBatch(nil, recs); !bytes.Equal(again, data) {
		t.Fatalf("decode+encode changed the batch:\n got %x\nwant %x", again, data)
	}
}

// FuzzScanSegment checks ScanSegment against its invariants, for any input:
//   - it never panics, and every error is a *CorruptError inside data that
//     matches ErrCorrupt;
//   - the valid prefix is whole entries that DecodeHeader accepts, with
//     contiguous offsets, and Last is the last of them;
//   - without an error, ValidBytes+TornBytes is exactly len(data);
//   - re-run on the valid prefix it reports the same prefix, no torn bytes
//     and no error: cutting the file is idempotent.
func FuzzScanSegment(f *testing.F) {
	whole, ends := segmentFile(threeBatches()...)
	f.Add([]byte{})
	f.Add(whole)
	f.Add(whole[:ends[2]-5])
	f.Add(append(bytes.Clone(whole), make([]byte, 64)...))
	flipped := bytes.Clone(whole)
	flipped[ends[0]+3] ^= 4
	f.Add(flipped)
	f.Add(appendEntry(nil, AppendBatch(nil, manyRecords(10, 0))))

	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ScanSegment(data)
		if res.Entries < 0 || res.ValidBytes < 0 || res.TornBytes < 0 || res.ValidBytes+res.TornBytes > int64(len(data)) {
			t.Fatalf("ScanSegment(%d bytes) = %+v: out of range", len(data), res)
		}
		checkPrefix(t, data[:res.ValidBytes], res)
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("ScanSegment error %v is not a *CorruptError matching ErrCorrupt", err)
			}
			if ce.Pos != res.ValidBytes || res.TornBytes != 0 {
				t.Fatalf("ScanSegment = %+v, error at byte %d; want the error where the valid prefix ends, no torn bytes", res, ce.Pos)
			}
			return
		}
		if res.ValidBytes+res.TornBytes != int64(len(data)) {
			t.Fatalf("ScanSegment(%d bytes) = %+v; want ValidBytes+TornBytes = %d", len(data), res, len(data))
		}
		again, err := ScanSegment(data[:res.ValidBytes])
		want := res
		want.TornBytes = 0
		if err != nil || again != want {
			t.Fatalf("ScanSegment of the valid prefix = %+v, %v; want %+v, nil", again, err, want)
		}
	})
}

// checkPrefix walks prefix entry by entry, independently of ScanSegment,
// and checks that it is exactly res.Entries whole, valid entries.
func checkPrefix(t *testing.T, prefix []byte, res ScanResult) {
	t.Helper()
	pos, n := 0, 0
	var last BatchHeader
	for pos < len(prefix) {
		batch, w, ok := frame(prefix, pos)
		if !ok {
			t.Fatalf("valid prefix has a bad frame at byte %d", pos)
		}
		h, err := DecodeHeader(batch)
		if err != nil {
			t.Fatalf("valid prefix entry at byte %d: %v", pos, err)
		}
		if n > 0 && h.FirstOffset != last.FirstOffset+int64(last.Count) {
			t.Fatalf("valid prefix entry at byte %d starts at offset %d after %+v", pos, h.FirstOffset, last)
		}
		last = h
		n++
		pos += w + len(batch)
	}
	if n != res.Entries || (n > 0 && last != res.Last) {
		t.Fatalf("valid prefix holds %d entries ending with %+v; ScanSegment said %d ending with %+v", n, last, res.Entries, res.Last)
	}
}
