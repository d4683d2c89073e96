package segment

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTimeIndexSeek checks seek's two promises against brute force, for
// random batches with times that are not monotonic: no batch below the mark
// holds a time >= t, and the first that does lies before the next mark.
func TestTimeIndexSeek(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 5))
	for round := range 20 {
		every := 1 + rng.Int64N(2000)
		x := newTimeIndex(every)
		var batches []tiBatch
		var off, bytes, starts int64
		for i := range 300 {
			b := tiBatch{offset: off, maxTime: rng.Int64N(1000) + int64(i*round), segStart: i == 0 || rng.IntN(20) == 0}
			size := 1 + rng.Int64N(500)
			x.add(b.offset, int64(i), size, b.maxTime, b.segStart)
			batches = append(batches, b)
			off += 1 + rng.Int64N(5)
			bytes += size
			if b.segStart {
				starts++
			}
		}
		if limit := bytes/every + starts + 1; int64(x.len()) > limit {
			t.Fatalf("round %d: %d marks for %d bytes every %d and %d segment starts; want at most %d", round, x.len(), bytes, every, starts, limit)
		}
		first := 0
		check := func() {
			t.Helper()
			marks := map[int64]bool{}
			x.marks.Ascend(func(m timeMark) bool { marks[m.offset] = true; return true })
			for _, ts := range []int64{math.MinInt64, -1, 0, 1, 500, 999, 5000, 20000, math.MaxInt64} {
				answer := len(batches)
				for i := first; i < len(batches); i++ {
					if batches[i].maxTime >= ts {
						answer = i
						break
					}
				}
				start := first
				if m, ok := x.seek(ts); ok {
					for start = first; batches[start].offset != m.offset; start++ {
					}
				}
				for i := first; i < start; i++ {
					if batches[i].maxTime >= ts {
						t.Fatalf("round %d: seek(%d) skips batch %d with max time %d", round, ts, i, batches[i].maxTime)
					}
				}
				for i := start + 1; i < answer; i++ {
					if marks[batches[i].offset] {
						t.Fatalf("round %d: seek(%d) starts at batch %d, the answer %d lies past the next mark", round, ts, start, answer)
					}
				}
			}
		}
		check()
		// Drop before a segment start and check again.
		for i := len(batches) / 2; i < len(batches); i++ {
			if batches[i].segStart {
				first = i
				x.dropBefore(batches[i].offset)
				break
			}
		}
		check()
		if got, want := x.maxAll(), maxOf(batches[first:]); got != want {
			t.Fatalf("round %d: maxAll() after a drop = %d; want %d", round, got, want)
		}
	}
}

// tiBatch is a batch as the time index sees it.
type tiBatch struct {
	offset, maxTime int64
	segStart        bool
}

// maxOf is the largest maxTime of batches.
func maxOf(bs []tiBatch) int64 {
	m := int64(math.MinInt64)
	for _, b := range bs {
		m = max(m, b.maxTime)
	}
	return m
}
