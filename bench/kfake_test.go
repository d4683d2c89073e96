package main

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"
)

// tinyRuns gives each workload small Params every watermill and kfake case
// supports, a few runs per workload where the Params change the code path.
func tinyRuns(workload string) []Params {
	const n = 1000
	switch workload {
	case AsyncProduce:
		return []Params{
			{Records: n, Size: 100, Partitions: 1},
			{Records: n, Size: 1024, Partitions: 16},
		}
	case SyncProduce:
		return []Params{
			{Records: n, Size: 100, Partitions: 1, Goroutines: 1},
			{Records: n, Size: 100, Partitions: 1, Goroutines: 64},
		}
	case Replay:
		return []Params{{Records: n, Size: 100, Partitions: 1}}
	case Latency:
		return []Params{
			{Records: n, Size: 100, Partitions: 1, Rate: 10_000},
			{Records: n, Size: 100, Partitions: 1},
		}
	}
	return nil
}

// runSystemCases runs every case system registered once per tinyRuns entry
// and checks what the runner relies on: every record handled, a positive
// Elapsed, and one positive latency per record for Latency.
func runSystemCases(t *testing.T, system string, wantWorkloads int) {
	t.Helper()
	got := 0
	for _, c := range cases {
		if c.System != system {
			continue
		}
		got++
		for _, p := range tinyRuns(c.Workload) {
			p.Dir = t.TempDir()
			if c.Supports != nil && !c.Supports(p) {
				t.Errorf("%s/%s does not support %+v", c.Workload, c.System, p)
				continue
			}
			t.Run(fmt.Sprintf("%s/%dB/%dp/%dg/rate%d", c.Workload, p.Size, p.Partitions, p.Goroutines, p.Rate), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				res, err := c.Run(ctx, p)
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if res.Records != p.Records {
					t.Errorf("Records = %d, want %d", res.Records, p.Records)
				}
				if res.Elapsed <= 0 {
					t.Errorf("Elapsed = %v, want > 0", res.Elapsed)
				}
				if c.Workload != Latency {
					return
				}
				if len(res.Latencies) != p.Records {
					t.Fatalf("%d latencies, want %d", len(res.Latencies), p.Records)
				}
				for i, l := range res.Latencies {
					if l <= 0 {
						t.Fatalf("latency %d = %v, want > 0", i, l)
					}
				}
				if p.Rate > 0 {
					// Sends are spaced 1/Rate apart, so the run cannot
					// be shorter than the schedule.
					min := time.Duration(p.Records-1) * time.Second / time.Duration(p.Rate)
					if res.Elapsed < min {
						t.Errorf("Elapsed = %v at %d/s, want >= %v", res.Elapsed, p.Rate, min)
					}
				}
			})
		}
	}
	if got != wantWorkloads {
		t.Errorf("%s registered %d cases, want %d", system, got, wantWorkloads)
	}
}

func TestKfakeCases(t *testing.T) {
	runSystemCases(t, "kfake", 4)
}

func TestKfakeSkipsWhatItCannotDo(t *testing.T) {
	for _, c := range cases {
		if c.System != "kfake" {
			continue
		}
		if c.Supports(Params{Records: 1, Size: 100, Partitions: 1, Durable: true}) {
			t.Errorf("%s: kfake claims to support Durable", c.Workload)
		}
		if c.Supports(Params{Records: 1, Size: 100, Partitions: 1, Cold: true}) {
			t.Errorf("%s: kfake claims to support a cold replay", c.Workload)
		}
	}
}

func TestKfakeListensOnLoopbackOnly(t *testing.T) {
	c, err := startKfake(Params{Partitions: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if len(c.addrs) != 1 {
		t.Fatalf("listen addresses %v, want one broker", c.addrs)
	}
	host, port, err := net.SplitHostPort(c.addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		t.Errorf("kfake listens on %s, want a loopback address", host)
	}
	if port == "0" {
		t.Errorf("kfake reports port 0, want the ephemeral port it got")
	}
}
