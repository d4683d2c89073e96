package eventlog_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tidwall/wal"
)

// BenchmarkRawWAL is the floor eventlog builds on: tidwall/wal alone, with
// 100-byte entries written in WriteBatch calls of 1000 (one record per
// entry), with and without an fsync after each batch. Compare its
// records/s with BenchmarkProduce's async cases in the same run.
func BenchmarkRawWAL(b *testing.B) {
	value := bytes.Repeat([]byte("x"), 100)
	for _, fsync := range []bool{false, true} {
		b.Run(fmt.Sprintf("WriteBatch1000/fsync=%v", fsync), func(b *testing.B) {
			w, err := wal.Open(b.TempDir(), &wal.Options{NoSync: true, NoCopy: true})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			b.SetBytes(int64(len(value)))
			var batch wal.Batch
			next := uint64(1)
			flush := func() {
				if err := w.WriteBatch(&batch); err != nil {
					b.Fatal(err)
				}
				if fsync {
					if err := w.Sync(); err != nil {
						b.Fatal(err)
					}
				}
				batch.Clear()
			}
			n := 0
			for b.Loop() {
				batch.Write(next, value)
				next++
				if n++; n == 1000 {
					flush()
					n = 0
				}
			}
			if n > 0 {
				flush()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
