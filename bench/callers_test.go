package main

import (
	"errors"
	"sync/atomic"
	"testing"
)

func TestRunCallersMakesEachSendOnce(t *testing.T) {
	var calls, senders atomic.Int64
	elapsed, err := runCallers(8, 1000, "sends", func(g int) func() error {
		senders.Add(1)
		return func() error {
			calls.Add(1)
			return nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := calls.Load(); got != 1000 {
		t.Errorf("%d sends, want 1000", got)
	}
	if got := senders.Load(); got != 8 {
		t.Errorf("%d goroutines, want 8", got)
	}
	if elapsed <= 0 {
		t.Errorf("elapsed = %v, want > 0", elapsed)
	}
}

func TestRunCallersStopsAGoroutineAtItsFirstFailure(t *testing.T) {
	boom := errors.New("boom")
	var calls atomic.Int64
	_, err := runCallers(0, 1000, "sends", func(int) func() error {
		return func() error {
			calls.Add(1)
			return boom
		}
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("%d sends by the one goroutine after it failed, want 1", got)
	}
}

func TestFailuresCountsAndKeepsTheFirst(t *testing.T) {
	var f failures
	f.add(nil)
	if err := f.err("sends"); err != nil {
		t.Fatalf("err with no failure = %v, want nil", err)
	}
	first := errors.New("first")
	f.add(first)
	f.add(errors.New("second"))
	err := f.err("sends")
	if !errors.Is(err, first) {
		t.Errorf("err = %v, want it to wrap the first failure", err)
	}
	if want := "2 sends failed, first: first"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}
