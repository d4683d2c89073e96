package segment

import (
	"testing"
)

func TestMemDefaults(t *testing.T) {
	for _, size := range []int64{0, -5} {
		if m := NewMem(MemOptions{SegmentSize: size}); m.segmentSize != defaultSegmentSize {
			t.Errorf("NewMem(SegmentSize %d).segmentSize = %d; want %d", size, m.segmentSize, defaultSegmentSize)
		}
	}
}

// TestMemAppendAllocations checks that Append copies a batch in a bounded
// number of allocations, not one per key and value.
func TestMemAppendAllocations(t *testing.T) {
	m := NewMem(MemOptions{SegmentSize: 1 << 30})
	batch := records(0, 100, monotonic)
	var next int64
	allocs := testing.AllocsPerRun(20, func() {
		for i := range batch {
			batch[i].Offset = next + int64(i)
		}
		if err := m.Append(batch); err != nil {
			t.Fatal(err)
		}
		next += int64(len(batch))
	})
	if allocs > 10 {
		t.Errorf("Mem.Append of 100 records: %.0f allocations; want a few, not one per record", allocs)
	}
}

func TestCloneRecordsKeepsNilApart(t *testing.T) {
	in := []Record{
		{Key: nil, Value: nil},
		{Key: []byte{}, Value: []byte{}, Headers: []Header{{Key: "a"}, {Key: "b", Value: []byte{}}}},
		{Headers: []Header{}},
	}
	out := cloneRecords(in)
	switch {
	case out[0].Key != nil || out[0].Value != nil:
		t.Error("nil key or value became non-nil")
	case out[1].Key == nil || out[1].Value == nil:
		t.Error("empty key or value became nil")
	case out[1].Headers[0].Value != nil || out[1].Headers[1].Value == nil:
		t.Error("header values: nil and empty not kept apart")
	case out[2].Headers != nil:
		t.Error("empty Headers not normalized to nil, as DecodeBatch returns them")
	}
}
