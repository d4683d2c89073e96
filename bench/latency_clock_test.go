package main

import (
	"context"
	"testing"
	"time"
)

func TestSendScheduleKeepsRate(t *testing.T) {
	const n, rate = 200, 2000
	s := newSendSchedule(rate)
	for i := range n {
		if err := s.wait(context.Background(), i); err != nil {
			t.Fatal(err)
		}
	}
	want := time.Duration(n-1) * time.Second / rate
	if got := time.Since(s.start); got < want {
		t.Errorf("%d sends at %d/s took %v, want >= %v", n, rate, got, want)
	}
}

func TestSendScheduleStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := newSendSchedule(1) // send 1 is due in a second
	if err := s.wait(ctx, 1); err == nil {
		t.Error("wait on a cancelled context returned nil")
	}
}

func TestSeqValueRoundTrip(t *testing.T) {
	for _, seq := range []uint64{0, 1, 1 << 40, warmupSeq} {
		v := seqValue(seq, 100)
		if len(v) != 100 {
			t.Errorf("len = %d, want 100", len(v))
		}
		if got, ok := valueSeq(v); !ok || got != seq {
			t.Errorf("valueSeq(seqValue(%d)) = %d, %v", seq, got, ok)
		}
	}
	if _, ok := valueSeq(make([]byte, seqBytes-1)); ok {
		t.Error("valueSeq accepted a value too short to hold a sequence number")
	}
}

func TestArrivalsMatchesBySequence(t *testing.T) {
	a := newArrivals(3, 2)
	for i := range 3 {
		a.clock.sent(i)
	}
	for i := range 2 {
		select {
		case <-a.ready:
			t.Fatalf("ready after %d of 2 warm-up records", i)
		default:
		}
		if err := a.arrive(seqValue(warmupSeq, 16), a.clock.now()); err != nil {
			t.Fatalf("warm-up record %d: %v", i, err)
		}
	}
	select {
	case <-a.ready:
	default:
		t.Fatal("ready not closed after both warm-up records")
	}
	if got := a.warmedUp(); got != 2 {
		t.Errorf("warmedUp = %d, want 2", got)
	}
	first := a.clock.now()
	for _, seq := range []uint64{2, 0, 1} { // out of order, as a system may deliver
		if a.complete() {
			t.Fatalf("complete before sequence %d arrived", seq)
		}
		if err := a.arrive(seqValue(seq, 16), a.clock.now()); err != nil {
			t.Fatalf("sequence %d: %v", seq, err)
		}
	}
	if !a.complete() {
		t.Fatal("not complete after every sequence arrived")
	}
	res := a.result(first)
	if res.Records != 3 || len(res.Latencies) != 3 {
		t.Fatalf("result has %d records, %d latencies; want 3, 3", res.Records, len(res.Latencies))
	}
	for i, l := range res.Latencies {
		if l <= 0 || l > a.clock.now() {
			t.Errorf("latency %d = %v, want positive and no longer than the run", i, l)
		}
	}
	if res.Elapsed <= 0 {
		t.Errorf("Elapsed = %v, want > 0", res.Elapsed)
	}
}

func TestArrivalsRejectsWhatWasNotSent(t *testing.T) {
	a := newArrivals(2, 1)
	a.clock.sent(0)
	if err := a.arrive(seqValue(warmupSeq, 8), a.clock.now()); err != nil {
		t.Fatal(err)
	}
	if err := a.arrive(seqValue(0, 8), a.clock.now()); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string][]byte{
		"repeated sequence":  seqValue(0, 8),
		"out of range":       seqValue(2, 8),
		"extra warm-up":      seqValue(warmupSeq, 8),
		"no sequence number": make([]byte, seqBytes-1),
	} {
		if err := a.arrive(v, a.clock.now()); err == nil {
			t.Errorf("%s: arrive returned nil", name)
		}
	}
	if got := a.arrived(); got != 1 {
		t.Errorf("arrived = %d after one good record and four bad, want 1", got)
	}
	if a.complete() {
		t.Error("complete with sequence 1 missing")
	}
}

func TestArrivalsWithoutWarmupIsReady(t *testing.T) {
	a := newArrivals(1, 0)
	select {
	case <-a.ready:
	default:
		t.Error("ready not closed with no warm-up records expected")
	}
	if err := a.arrive(seqValue(warmupSeq, 8), a.clock.now()); err == nil {
		t.Error("a warm-up record nobody expected was accepted")
	}
}
