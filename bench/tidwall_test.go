package main

import (
	"errors"
	"io/fs"
	"os"
	"testing"
)

func TestTidwallCases(t *testing.T) {
	runTinyCases(t, "tidwall", twCount)
}

// twCount returns how many entries the wal.Logs under dir hold in all.
func twCount(dir string) (int, error) {
	var n int
	for i := 0; ; i++ {
		if _, err := os.Stat(twDir(dir, i)); errors.Is(err, fs.ErrNotExist) {
			return n, nil // past the last partition
		}
		l, err := twReopen(dir, i)
		if err != nil {
			return 0, err
		}
		first, last, err := twBounds(l)
		if cerr := l.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return 0, err
		}
		if last > 0 {
			n += int(last - first + 1)
		}
	}
}

// BenchmarkTidwallAsync runs the tidwall async-produce case (100-byte
// records, WriteBatch of 1000, one log, no fsync) b.N times.
func BenchmarkTidwallAsync(b *testing.B) {
	benchCase(b, runTidwallAsync, Params{Records: 1_000_000, Size: 100, Partitions: 1})
}

// BenchmarkTidwallReplay runs the tidwall replay case (1,000,000 records of
// 100 bytes, warm page cache) b.N times.
func BenchmarkTidwallReplay(b *testing.B) {
	benchCase(b, runTidwallReplay, Params{Records: 1_000_000, Size: 100, Partitions: 1})
}
