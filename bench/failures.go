package main

import (
	"fmt"
	"sync"
)

// failures counts failed operations and keeps the first error. Its zero
// value is ready, and it is safe for concurrent use: the callbacks of
// async produces and of consumers report to it from the clients'
// goroutines.
type failures struct {
	mu     sync.Mutex
	failed int
	first  error
}

// add records err if it is not nil.
func (f *failures) add(err error) {
	if err == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failed++; f.first == nil {
		f.first = err
	}
}

// err is nil if nothing failed, else the count of failed what (a plural
// noun) and the first error.
func (f *failures) err(what string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failed > 0 {
		return fmt.Errorf("%d %s failed, first: %w", f.failed, what, f.first)
	}
	return nil
}
