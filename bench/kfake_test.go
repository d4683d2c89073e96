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
// and checks what the runner relies on (see checkTinyResult).
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
				checkTinyResult(t, c.Workload, p, res)
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
	checkNoCaseSupports(t, "kfake", "Durable", Params{Records: 1, Size: 100, Partitions: 1, Durable: true})
	checkNoCaseSupports(t, "kfake", "a cold replay", Params{Records: 1, Size: 100, Partitions: 1, Cold: true})
}

// checkNoCaseSupports fails if a case of system claims to support p, which
// what describes.
func checkNoCaseSupports(t *testing.T, system, what string, p Params) {
	t.Helper()
	for _, c := range cases {
		if c.System == system && c.Supports(p) {
			t.Errorf("%s: %s claims to support %s", c.Workload, system, what)
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
