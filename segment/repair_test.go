package segment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// segmentFile builds the bytes of a tidwall/wal segment file holding one
// entry per batch, and returns the end position of each entry.
func segmentFile(batches ...[]Record) (data []byte, ends []int) {
	for _, b := range batches {
		data = appendEntry(data, AppendBatch(nil, b))
		ends = append(ends, len(data))
	}
	return data, ends
}

// appendEntry frames an entry the way tidwall/wal's binary format does.
func appendEntry(dst, batch []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(batch)))
	return append(dst, batch...)
}

// threeBatches returns offsets 10..14 in batches of 2, 1 and 2 records.
func threeBatches() [][]Record {
	all := sampleBatch(10)
	return [][]Record{all[0:2], all[2:3], all[3:5]}
}

func TestScanSegmentWhole(t *testing.T) {
	data, _ := segmentFile(threeBatches()...)
	res, err := ScanSegment(data)
	want := ScanResult{Entries: 3, ValidBytes: int64(len(data)), Last: BatchHeader{FirstOffset: 13, Count: 2, MaxTime: 1_700_000_000_000_000_100}}
	if err != nil || res != want {
		t.Fatalf("ScanSegment = %+v, %v; want %+v, nil", res, err, want)
	}
	if res, err := ScanSegment(nil); err != nil || res != (ScanResult{}) {
		t.Fatalf("ScanSegment(nil) = %+v, %v; want zero, nil", res, err)
	}
}

// TestScanSegmentTornAtEveryByte cuts the file after every byte of the last
// entry: each cut is a torn tail that goes back to the two whole entries.
func TestScanSegmentTornAtEveryByte(t *testing.T) {
	data, ends := segmentFile(threeBatches()...)
	for cut := ends[1] + 1; cut < ends[2]; cut++ {
		res, err := ScanSegment(data[:cut])
		want := ScanResult{Entries: 2, ValidBytes: int64(ends[1]), TornBytes: int64(cut - ends[1]), Last: BatchHeader{FirstOffset: 12, Count: 1, MaxTime: 1_699_999_999_000_000_000}}
		if err != nil || res != want {
			t.Fatalf("cut=%d: ScanSegment = %+v, %v; want %+v, nil", cut, res, err, want)
		}
	}
}

func TestScanSegmentJunkTails(t *testing.T) {
	data, ends := segmentFile(threeBatches()...)
	junk := make([]byte, 3000)
	for i := range junk {
		junk[i] = byte(i*7 + i/13)
	}
	for _, tc := range []struct {
		name string
		tail []byte
	}{
		{"zeros", make([]byte, 4096)},
		{"ones", bytes.Repeat([]byte{0xff}, 100)},
		{"junk", junk},
		{"one zero", []byte{0}},
		{"frame with no batch", binary.AppendUvarint(nil, 50)},
		{"torn entry then zeros", append(bytes.Clone(data[ends[0]:ends[1]-3]), make([]byte, 500)...)},
		{"torn last entry then zeros", append(bytes.Clone(data[ends[1]:ends[2]-1]), make([]byte, 4096)...)},
		{"non-minimal frame", []byte{0x80, 0x00}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := append(bytes.Clone(data), tc.tail...)
			res, err := ScanSegment(file)
			if err != nil || res.Entries != 3 || res.ValidBytes != int64(ends[2]) || res.TornBytes != int64(len(tc.tail)) {
				t.Fatalf("ScanSegment = %+v, %v; want 3 entries, %d valid bytes, %d torn", res, err, ends[2], len(tc.tail))
			}
		})
	}
}

// TestScanSegmentCorruptBeforeTail damages an entry that a valid entry
// follows: every single-bit flip in the first two entries must be a
// *CorruptError naming the damaged entry's position, never a torn tail.
func TestScanSegmentCorruptBeforeTail(t *testing.T) {
	data, ends := segmentFile(threeBatches()...)
	starts := []int{0, ends[0]}
	for i := 0; i < ends[1]; i++ {
		entry := 0
		if i >= ends[0] {
			entry = 1
		}
		for bit := range 8 {
			file := bytes.Clone(data)
			file[i] ^= 1 << bit
			res, err := ScanSegment(file)
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("byte %d bit %d flipped: ScanSegment = %+v, %v; want a *CorruptError", i, bit, res, err)
			}
			if ce.Pos != int64(starts[entry]) || res.ValidBytes != int64(starts[entry]) || res.Entries != entry {
				t.Fatalf("byte %d bit %d flipped: Pos %d, result %+v; want Pos and ValidBytes %d, %d entries", i, bit, ce.Pos, res, starts[entry], entry)
			}
			wantOffset := int64(-1)
			if entry == 1 {
				wantOffset = 12
			}
			if ce.Offset != wantOffset {
				t.Fatalf("byte %d bit %d flipped: Offset %d; want %d", i, bit, ce.Offset, wantOffset)
			}
		}
	}
}

// TestScanSegmentFlipInLastEntry: damage to the last entry with nothing
// valid after it is indistinguishable from a torn write, and is cut.
func TestScanSegmentFlipInLastEntry(t *testing.T) {
	data, ends := segmentFile(threeBatches()...)
	for i := ends[1]; i < ends[2]; i++ {
		file := bytes.Clone(data)
		file[i] ^= 0x10
		res, err := ScanSegment(file)
		if err != nil || res.Entries != 2 || res.ValidBytes != int64(ends[1]) || res.TornBytes != int64(len(file)-ends[1]) {
			t.Fatalf("byte %d flipped: ScanSegment = %+v, %v; want 2 entries, the rest torn", i, res, err)
		}
	}
}

func TestScanSegmentMisplacedEntry(t *testing.T) {
	b := threeBatches()
	for _, tc := range []struct {
		name    string
		batches [][]Record
		pos     int // index of the entry reported
		want    int64
	}{
		{"gap", [][]Record{b[0], b[2]}, 1, 12},
		{"repeat", [][]Record{b[0], b[1], b[1]}, 2, 13},
		{"backwards", [][]Record{b[1], b[0]}, 1, 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, ends := segmentFile(tc.batches...)
			res, err := ScanSegment(data)
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Pos != int64(ends[tc.pos-1]) || ce.Offset != tc.want || res.Entries != tc.pos {
				t.Fatalf("ScanSegment = %+v, %v; want a *CorruptError at byte %d, offset %d", res, err, ends[tc.pos-1], tc.want)
			}
		})
	}
}

// TestScanSegmentValidEntryInsideTornTail: a torn entry whose payload holds
// a whole framed batch (a value that is itself an entry) looks like damage
// before a valid entry. The scan must report it, not cut it.
func TestScanSegmentValidEntryInsideTornTail(t *testing.T) {
	data, ends := segmentFile(threeBatches()[:2]...)
	inner := appendEntry(nil, AppendBatch(nil, []Record{{Offset: 99}}))
	outer := appendEntry(nil, AppendBatch(nil, []Record{{Offset: 13, Value: inner}}))
	file := append(bytes.Clone(data), outer[:len(outer)-1]...) // torn: only the header count is missing
	_, err := ScanSegment(file)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Pos != int64(ends[1]) {
		t.Fatalf("ScanSegment = %v; want a *CorruptError at byte %d", err, ends[1])
	}
}

// TestScanSegmentBudget feeds a tail crafted so that very many positions
// frame plausible batches that fail their checksum. The scan must stop and
// report corruption rather than spend quadratic time.
func TestScanSegmentBudget(t *testing.T) {
	// A fake batch header that passes every cheap check (version 1, offset
	// 0, one record, no headers) but not its checksum.
	hdr := make([]byte, BatchOverhead)
	hdr[offVersion] = BatchVersion
	binary.LittleEndian.PutUint32(hdr[offCount:], 1)
	// Each frame claims the whole rest of the file, so checking every
	// candidate would checksum O(len(file)^2) bytes. rest[i] is the length
	// of entries i..n-1 together.
	const n = 4096
	rest := make([]int, n+1)
	for i := n - 1; i >= 0; i-- {
		body := BatchOverhead + rest[i+1]
		rest[i] = len(binary.AppendUvarint(nil, uint64(body))) + body
	}
	var file []byte
	for i := range n {
		file = binary.AppendUvarint(file, uint64(BatchOverhead+rest[i+1]))
		file = append(file, hdr...)
	}
	if len(file) != rest[0] {
		t.Fatalf("built %d bytes; want %d", len(file), rest[0])
	}
	_, err := ScanSegment(file)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Pos != 0 || !strings.Contains(err.Error(), "too many candidate entries") {
		t.Fatalf("ScanSegment = %v; want a *CorruptError at byte 0 for too many candidates", err)
	}
}

func TestScanSegmentAllocs(t *testing.T) {
	data, _ := segmentFile(threeBatches()...)
	data = append(data, make([]byte, 4096)...)
	if n := testing.AllocsPerRun(20, func() { _, _ = ScanSegment(data) }); n != 0 {
		t.Errorf("ScanSegment of a torn file: %v allocs; want 0", n)
	}
}

func TestScanSegmentErrorText(t *testing.T) {
	data, ends := segmentFile(threeBatches()...)
	data[ends[0]+10] ^= 1
	_, err := ScanSegment(data)
	ce := new(CorruptError)
	if !errors.As(err, &ce) {
		t.Fatalf("ScanSegment = %v; want a *CorruptError", err)
	}
	ce.File = "00000000000000000001"
	want := fmt.Sprintf(`file "00000000000000000001", byte %d, offset 12: invalid before a valid entry at byte %d, so not a torn tail: entry at byte %d: batch checksum mismatch`, ends[0], ends[1], ends[0])
	if !strings.HasPrefix(ce.Error(), want) || !strings.HasSuffix(ce.Error(), ErrCorrupt.Error()) {
		t.Errorf("Error() = %q; want prefix %q", ce.Error(), want)
	}
}

func BenchmarkScanSegment(b *testing.B) {
	var data []byte
	recs := benchRecords()
	for i := range 100 { // about 1.4 MB: a segment
		for j := range recs {
			recs[j].Offset = int64(i*len(recs) + j)
		}
		data = appendEntry(data, AppendBatch(nil, recs))
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ScanSegment(data); err != nil {
			b.Fatal(err)
		}
	}
}
