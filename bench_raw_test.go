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
			b.ReportAllocs()
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

// BenchmarkRawWALRead reads every entry of a reopened tidwall/wal log of
// 200,000 100-byte entries (one record per entry), the floor for
// BenchmarkRead's replay of the same records.
func BenchmarkRawWALRead(b *testing.B) {
	const n = 200_000
	dir := b.TempDir()
	w, err := wal.Open(dir, &wal.Options{NoSync: true, NoCopy: true})
	if err != nil {
		b.Fatal(err)
	}
	value := bytes.Repeat([]byte("x"), 100)
	var batch wal.Batch
	for i := range n {
		batch.Write(uint64(i+1), value)
		if (i+1)%1000 == 0 {
			if err := w.WriteBatch(&batch); err != nil {
				b.Fatal(err)
			}
			batch.Clear()
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(n * int64(len(value)))
	b.ReportAllocs()
	for b.Loop() {
		w, err := wal.Open(dir, &wal.Options{NoSync: true, NoCopy: true})
		if err != nil {
			b.Fatal(err)
		}
		for i := uint64(1); i <= n; i++ {
			data, err := w.Read(i)
			if err != nil || len(data) != len(value) {
				b.Fatalf("Read(%d) = %d bytes, %v", i, len(data), err)
			}
		}
		w.Close()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
