package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// runCallers is the frame of the sync-produce cases: it starts goroutines
// goroutines (at least one), each of which gets its send function from
// newSend(g), g being its number, and calls it once per record it claims
// until records records are claimed or one of its calls fails. It returns
// the time from just before the first goroutine starts until the last has
// returned, and the failures, counted as what (a plural noun).
func runCallers(goroutines, records int, what string, newSend func(g int) func() error) (time.Duration, error) {
	var (
		errs failures
		next atomic.Int64 // records claimed
		wg   sync.WaitGroup
	)
	start := time.Now()
	for g := range max(goroutines, 1) {
		wg.Go(func() {
			send := newSend(g)
			for next.Add(1) <= int64(records) {
				if err := send(); err != nil {
					errs.add(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), errs.err(what)
}
