package segment

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// sampleBatch exercises every field: nil and empty keys, values and header
// values, headers on some records and not others, times out of order, and
// varints of several lengths.
func sampleBatch(first int64) []Record {
	return []Record{
		{Offset: first, Time: 1_700_000_000_000_000_000, Key: []byte("k0"), Value: []byte("v0")},
		{Offset: first + 1, Time: 1_700_000_000_000_000_500, Key: nil, Value: nil},
		{Offset: first + 2, Time: 1_699_999_999_000_000_000, Key: []byte{}, Value: []byte{}},
		{Offset: first + 3, Time: 1_700_000_000_000_000_100, Key: []byte("key"), Value: bytes.Repeat([]byte("x"), 300),
			Headers: []Header{{Key: "trace", Value: []byte("abc")}, {Key: "nil", Value: nil}, {Key: "empty", Value: []byte{}}, {Key: "", Value: []byte("no key")}}},
		{Offset: first + 4, Time: 1_700_000_000_000_000_100, Key: []byte("k4"), Value: nil,
			Headers: []Header{{Key: "trace", Value: []byte("def")}}},
	}
}

// equalRecords compares records field by field, telling nil from empty for
// Key, Value and header Value. A nil and an empty Headers slice are equal:
// the format keeps only the count.
func equalRecords(t *testing.T, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records; want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Offset != w.Offset || g.Time != w.Time {
			t.Errorf("record %d: offset, time = %d, %d; want %d, %d", i, g.Offset, g.Time, w.Offset, w.Time)
		}
		sameBytes(t, fmt.Sprintf("record %d key", i), g.Key, w.Key)
		sameBytes(t, fmt.Sprintf("record %d value", i), g.Value, w.Value)
		if len(g.Headers) != len(w.Headers) {
			t.Errorf("record %d: %d headers; want %d", i, len(g.Headers), len(w.Headers))
			continue
		}
		for j := range w.Headers {
			if g.Headers[j].Key != w.Headers[j].Key {
				t.Errorf("record %d header %d key = %q; want %q", i, j, g.Headers[j].Key, w.Headers[j].Key)
			}
			sameBytes(t, fmt.Sprintf("record %d header %d value", i, j), g.Headers[j].Value, w.Headers[j].Value)
		}
	}
}

func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if (got == nil) != (want == nil) || !bytes.Equal(got, want) {
		t.Errorf("%s = %#v (nil %t); want %#v (nil %t)", what, got, got == nil, want, want == nil)
	}
}

func TestBatchRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		recs []Record
	}{
		{"sample", sampleBatch(42)},
		{"one empty record", []Record{{}}},
		{"offset zero", []Record{{Offset: 0, Time: 5, Key: []byte("a")}}},
		{"extreme times", []Record{{Offset: 9, Time: math.MinInt64}, {Offset: 10, Time: math.MaxInt64}, {Offset: 11, Time: 0}, {Offset: 12, Time: -1}}},
		{"all min time", []Record{{Offset: 1, Time: math.MinInt64}, {Offset: 2, Time: math.MinInt64}}},
		{"large offset", []Record{{Offset: math.MaxInt64 - 2}, {Offset: math.MaxInt64 - 1}}},
		{"big record", []Record{{Offset: 3, Key: bytes.Repeat([]byte("k"), 70_000), Value: bytes.Repeat([]byte{0xAB}, 5<<20)}}},
		{"many records", manyRecords(1000, 10_000)},
		{"many headers", []Record{{Offset: 1, Headers: manyHeaders(300)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := AppendBatch(nil, tc.recs)
			size := BatchOverhead
			for _, r := range tc.recs {
				size += EncodedSize(r)
			}
			if len(enc) > size || len(enc) < size-9*len(tc.recs) {
				t.Errorf("len(AppendBatch) = %d; want within [%d, %d] by EncodedSize", len(enc), size-9*len(tc.recs), size)
			}
			got, err := DecodeBatch(enc)
			if err != nil {
				t.Fatalf("DecodeBatch = %v; want nil", err)
			}
			equalRecords(t, got, tc.recs)

			h, err := DecodeHeader(enc)
			maxTime := tc.recs[0].Time
			for _, r := range tc.recs {
				maxTime = max(maxTime, r.Time)
			}
			want := BatchHeader{FirstOffset: tc.recs[0].Offset, Count: len(tc.recs), MaxTime: maxTime}
			if err != nil || h != want {
				t.Errorf("DecodeHeader = %+v, %v; want %+v, nil", h, err, want)
			}
			if again := AppendBatch(nil, got); !bytes.Equal(again, enc) {
				t.Errorf("re-encoding the decoded batch changed it")
			}
		})
	}
}

func manyRecords(n int, firstOffset int64) []Record {
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([]Record, n)
	t := int64(1_700_000_000_000_000_000)
	for i := range recs {
		t += rng.Int64N(2_000_000) - 500_000 // mostly rising, sometimes not
		r := Record{Offset: firstOffset + int64(i), Time: t}
		if rng.IntN(4) != 0 {
			r.Key = fmt.Appendf(nil, "key-%d", rng.IntN(50))
		}
		if rng.IntN(10) != 0 {
			r.Value = make([]byte, rng.IntN(400))
			for j := range r.Value {
				r.Value[j] = byte(rng.Uint32())
			}
		}
		for range rng.IntN(3) {
			r.Headers = append(r.Headers, Header{Key: fmt.Sprintf("h%d", rng.IntN(12)), Value: []byte("v")})
		}
		recs[i] = r
	}
	return recs
}

func manyHeaders(n int) []Header {
	hs := make([]Header, n)
	for i := range hs {
		hs[i] = Header{Key: fmt.Sprintf("header-%d", i), Value: []byte{byte(i)}}
	}
	return hs
}

func TestAppendBatchAppends(t *testing.T) {
	prefix := []byte("prefix")
	a := AppendBatch(nil, sampleBatch(0))
	b := AppendBatch(bytes.Clone(prefix), sampleBatch(0))
	if !bytes.HasPrefix(b, prefix) || !bytes.Equal(b[len(prefix):], a) {
		t.Fatalf("AppendBatch(prefix, ...) did not append the same encoding after the prefix")
	}
}

func TestAppendBatchAllocs(t *testing.T) {
	recs := benchRecords()
	buf := AppendBatch(nil, recs)
	if n := testing.AllocsPerRun(100, func() { buf = AppendBatch(buf[:0], recs) }); n != 0 {
		t.Errorf("AppendBatch into a big enough buffer: %v allocs; want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = AppendBatch(nil, recs) }); n != 1 {
		t.Errorf("AppendBatch(nil, ...): %v allocs; want 1", n)
	}
}

func TestDecodeBatchAllocs(t *testing.T) {
	enc := AppendBatch(nil, benchRecords())
	if n := testing.AllocsPerRun(100, func() { _, _ = DecodeBatch(enc) }); n != 1 {
		t.Errorf("DecodeBatch without headers: %v allocs; want 1", n)
	}
	enc = AppendBatch(nil, manyRecords(200, 0)) // headers with a dozen distinct keys
	if n := testing.AllocsPerRun(100, func() { _, _ = DecodeBatch(enc) }); n != 3 {
		t.Errorf("DecodeBatch with headers: %v allocs; want 3", n)
	}
}

func TestDecodeAliasesData(t *testing.T) {
	enc := AppendBatch(nil, []Record{{Key: []byte("kk"), Value: []byte("vv"), Headers: []Header{{Key: "h", Value: []byte("hv")}}}})
	recs, err := DecodeBatch(enc)
	if err != nil {
		t.Fatal(err)
	}
	r := recs[0]
	if cap(r.Key) != len(r.Key) || cap(r.Value) != len(r.Value) || cap(r.Headers[0].Value) != 2 {
		t.Errorf("decoded slices have spare capacity: appending to them would overwrite the batch")
	}
	// Header keys are strings and must not change with data.
	for i := range enc {
		enc[i] = 'Z'
	}
	if r.Headers[0].Key != "h" {
		t.Errorf("header key = %q after data changed; want %q", r.Headers[0].Key, "h")
	}
}

// TestDecodeDetectsEveryBitFlip flips each bit of an encoded batch in turn.
// The CRC covers everything after it and a flip inside the CRC changes the
// stored sum, so every flip must be an error.
func TestDecodeDetectsEveryBitFlip(t *testing.T) {
	enc := AppendBatch(nil, sampleBatch(7))
	for i := range enc {
		for bit := range 8 {
			data := bytes.Clone(enc)
			data[i] ^= 1 << bit
			if _, err := DecodeBatch(data); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeBatch with byte %d bit %d flipped = %v; want ErrCorrupt", i, bit, err)
			}
			if _, err := DecodeHeader(data); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeHeader with byte %d bit %d flipped = %v; want ErrCorrupt", i, bit, err)
			}
		}
	}
}

func TestDecodeDetectsTruncation(t *testing.T) {
	enc := AppendBatch(nil, sampleBatch(7))
	for n := range len(enc) {
		if _, err := DecodeBatch(enc[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("DecodeBatch of the first %d of %d bytes = %v; want ErrCorrupt", n, len(enc), err)
		}
		if _, err := DecodeHeader(enc[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("DecodeHeader of the first %d of %d bytes = %v; want ErrCorrupt", n, len(enc), err)
		}
	}
	// Extra bytes are rejected too, even with a checksum that covers them.
	for _, extra := range [][]byte{{0}, {1, 2, 3}} {
		data := reseal(append(bytes.Clone(enc), extra...))
		if _, err := DecodeBatch(data); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "trailing") {
			t.Errorf("DecodeBatch with %d trailing bytes = %v; want a trailing-bytes ErrCorrupt", len(extra), err)
		}
	}
}

// reseal recomputes a batch's checksum after a test has edited it, so that
// the checks behind the checksum are the ones exercised.
func reseal(data []byte) []byte {
	binary.LittleEndian.PutUint32(data, crc32.Checksum(data[4:], castagnoli))
	return data
}

func TestDecodeRejectsUnknownVersion(t *testing.T) {
	enc := AppendBatch(nil, sampleBatch(7))
	for _, v := range []byte{0, 2, 255} {
		data := bytes.Clone(enc)
		data[offVersion] = v
		_, err := DecodeBatch(reseal(data))
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), fmt.Sprintf("unsupported batch format version %d", v)) {
			t.Errorf("DecodeBatch of version %d = %v; want an unsupported-version ErrCorrupt", v, err)
		}
		if _, err := DecodeHeader(data); !errors.Is(err, ErrCorrupt) {
			t.Errorf("DecodeHeader of version %d = %v; want ErrCorrupt", v, err)
		}
	}
}

// TestDecodeRejectsSecondSpellings edits a batch into forms that carry the
// same records but differ from AppendBatch's bytes, re-seals the checksum,
// and expects each to be rejected.
func TestDecodeRejectsSecondSpellings(t *testing.T) {
	one := []Record{{Offset: 5, Time: 100, Key: []byte("k"), Value: []byte("v")}}
	enc := AppendBatch(nil, one)
	body := enc[BatchOverhead:] // age 0, key tag 2 'k', value tag 2 'v', 0 headers
	if want := []byte{0, 2, 'k', 2, 'v', 0}; !bytes.Equal(body, want) {
		t.Fatalf("record encoding = %x; want %x", body, want)
	}
	build := func(edit func(hdr, body []byte) []byte) []byte {
		hdr := bytes.Clone(enc[:BatchOverhead])
		return reseal(edit(hdr, bytes.Clone(body)))
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"non-minimal age varint", build(func(h, b []byte) []byte { return append(h, append([]byte{0x80, 0x00}, b[1:]...)...) })},
		{"non-minimal key tag", build(func(h, b []byte) []byte { return append(h, append([]byte{0, 0x82, 0x00}, b[2:]...)...) })},
		{"max time above every record", build(func(h, b []byte) []byte {
			binary.LittleEndian.PutUint64(h[offMaxTime:], 101)
			b[0] = 1 // age 1: the record still has time 100
			return append(h, b...)
		})},
		{"header count too high", build(func(h, b []byte) []byte {
			binary.LittleEndian.PutUint32(h[offHeaderCount:], 1)
			return append(h, append(b, 0, 0)...)
		})},
		{"zero records", build(func(h, b []byte) []byte {
			binary.LittleEndian.PutUint32(h[offCount:], 0)
			return h
		})},
		{"negative offset", build(func(h, b []byte) []byte {
			binary.LittleEndian.PutUint64(h[offFirstOffset:], uint64(1)<<63)
			return append(h, b...)
		})},
		{"offset overflow", build(func(h, b []byte) []byte {
			binary.LittleEndian.PutUint64(h[offFirstOffset:], math.MaxInt64)
			return append(h, b...)
		})},
		{"huge count", build(func(h, b []byte) []byte {
			binary.LittleEndian.PutUint32(h[offCount:], math.MaxUint32)
			return append(h, b...)
		})},
		{"huge header count", build(func(h, b []byte) []byte {
			binary.LittleEndian.PutUint32(h[offHeaderCount:], math.MaxUint32)
			return append(h, b...)
		})},
		{"key overruns", build(func(h, b []byte) []byte { b[1] = 0x7f; return append(h, b...) })},
		{"age wraps past max time", build(func(h, b []byte) []byte {
			binary.LittleEndian.PutUint64(h[offMaxTime:], 1<<63) // t = MinInt64 - 1 wraps to MaxInt64
			return append(h, append([]byte{1}, b[1:]...)...)
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeBatch(tc.data); !errors.Is(err, ErrCorrupt) {
				t.Errorf("DecodeBatch(%x) = %v; want ErrCorrupt", tc.data, err)
			}
		})
	}
}

func TestCorruptError(t *testing.T) {
	cause := fmt.Errorf("batch checksum mismatch: %w", ErrCorrupt)
	for _, tc := range []struct {
		err  *CorruptError
		want string
	}{
		{&CorruptError{File: "00000000000000000001", Pos: 40, Offset: 17, Err: cause},
			`file "00000000000000000001", byte 40, offset 17: batch checksum mismatch: segment: corrupt data`},
		{&CorruptError{Pos: -1, Offset: -1, Err: errors.New("stray file")}, "stray file: segment: corrupt data"},
		{&CorruptError{Pos: 3, Offset: -1}, "byte 3: segment: corrupt data"},
		{&CorruptError{Pos: -1, Offset: -1}, "segment: corrupt data"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q; want %q", got, tc.want)
		}
		wrapped := fmt.Errorf("open: %w", tc.err)
		var ce *CorruptError
		if !errors.Is(wrapped, ErrCorrupt) || !errors.As(wrapped, &ce) || ce != tc.err {
			t.Errorf("wrapped %v: errors.Is ErrCorrupt / errors.As *CorruptError failed", tc.err)
		}
	}
	inner := errors.New("inner")
	if ce := (&CorruptError{Err: inner}); !errors.Is(ce, inner) {
		t.Errorf("errors.Is(CorruptError{Err: inner}, inner) = false; want true (Unwrap)")
	}
}

func TestAppendBatchPanicsOnEmpty(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("AppendBatch(nil, nil) did not panic")
		}
	}()
	AppendBatch(nil, nil)
}

// TestFormatExample produces the hexdump shown in FORMAT.md and fails if
// the document and the encoder disagree.
func TestFormatExample(t *testing.T) {
	recs := []Record{
		{Offset: 42, Time: 1_700_000_000_000_000_000, Key: []byte("k"), Value: []byte("hello"),
			Headers: []Header{{Key: "h", Value: []byte("v")}}},
		{Offset: 43, Time: 1_700_000_000_000_001_000, Key: nil, Value: []byte{}},
	}
	entry := appendEntry(nil, AppendBatch(nil, recs))
	dump := hex.Dump(entry)
	doc, err := os.ReadFile("FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), dump) {
		t.Errorf("FORMAT.md does not contain the current encoding of its example:\n%s", dump)
	}
	if got := len(entry) - 1; got != 48 {
		t.Errorf("example batch is %d bytes; FORMAT.md says 48", got)
	}
}

// benchRecords is a 100-record batch of 100-byte values with short keys.
func benchRecords() []Record {
	recs := make([]Record, 100)
	t := int64(1_700_000_000_000_000_000)
	for i := range recs {
		recs[i] = Record{
			Offset: 1_000_000 + int64(i),
			Time:   t + int64(i)*1_000,
			Key:    fmt.Appendf(nil, "key-%03d", i),
			Value:  bytes.Repeat([]byte{byte(i)}, 100),
		}
	}
	return recs
}

func BenchmarkAppendBatch(b *testing.B) {
	recs := benchRecords()
	buf := AppendBatch(nil, recs)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendBatch(buf[:0], recs)
	}
}

func BenchmarkDecodeBatch(b *testing.B) {
	enc := AppendBatch(nil, benchRecords())
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBatch(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBatchHeaders(b *testing.B) {
	recs := benchRecords()
	for i := range recs {
		recs[i].Headers = []Header{{Key: "trace-id", Value: []byte("0123456789abcdef")}, {Key: "content-type", Value: []byte("application/json")}}
	}
	enc := AppendBatch(nil, recs)
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBatch(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeHeader(b *testing.B) {
	enc := AppendBatch(nil, benchRecords())
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeHeader(enc); err != nil {
			b.Fatal(err)
		}
	}
}
