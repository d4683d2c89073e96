package eventlog

import "testing"

// nextBatch cuts a drain's chunks into batches of at most maxDrainRecords
// records and about maxDrainBytes encoded bytes, in order, each holding at
// least one record, and says how much buffer space each holds.
func TestNextBatchBounds(t *testing.T) {
	chunk := func(n int, encoded int64) []pending {
		c := make([]pending, n)
		for i := range c {
			c[i] = pending{rec: Record{Offset: int64(i)}, size: encoded + pendingOverhead}
		}
		return c
	}
	for _, tc := range []struct {
		name    string
		chunks  [][]pending
		batches []int // records per batch
	}{
		{"small records: bounded by count", [][]pending{chunk(chunkRecords, 10), chunk(chunkRecords, 10), chunk(chunkRecords, 10), chunk(chunkRecords, 10), chunk(chunkRecords, 10)}, []int{maxDrainRecords, chunkRecords}},
		{"large records: bounded by bytes", [][]pending{chunk(10, 200<<10)}, []int{3, 3, 3, 1}},
		{"one record larger than the bound", [][]pending{chunk(2, 4<<20)}, []int{1, 1}},
		{"records spanning chunks", [][]pending{chunk(3, 100), chunk(2, 100)}, []int{5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			var recs []Record
			for pos := (queuePos{}); pos.chunk < len(tc.chunks); {
				var release int64
				recs, release, pos = nextBatch(tc.chunks, pos, recs[:0])
				var want int64
				for range recs {
					want += tc.chunks[0][0].size // every record of a case has the same size
				}
				if release != want {
					t.Fatalf("batch of %d records releases %d bytes; want %d", len(recs), release, want)
				}
				got = append(got, len(recs))
				if len(got) > 100 {
					t.Fatal("no progress")
				}
			}
			if len(got) != len(tc.batches) {
				t.Fatalf("batches %v; want %v", got, tc.batches)
			}
			for i := range got {
				if got[i] != tc.batches[i] {
					t.Fatalf("batches %v; want %v", got, tc.batches)
				}
			}
		})
	}
}
