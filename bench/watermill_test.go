package main

import (
	"context"
	"testing"
	"time"
)

func TestWatermillCases(t *testing.T) {
	runSystemCases(t, "watermill", 2) // default config, and Publish waiting for the Ack
}

func TestWatermillSkipsWhatItCannotDo(t *testing.T) {
	for _, c := range cases {
		if c.System != "watermill" {
			continue
		}
		if c.Supports(Params{Records: 1, Size: 100, Partitions: 1, Durable: true}) {
			t.Errorf("%s: GoChannel claims to support Durable", c.Workload)
		}
		if c.Supports(Params{Records: 1, Size: 100, Partitions: 16}) {
			t.Errorf("%s: GoChannel claims to support 16 partitions", c.Workload)
		}
	}
}

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
