package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// natsTinyRuns lists small Params for a workload covering both durability
// settings, both sizes, 1 and 16 partitions, 1 and 64 goroutines, both
// rates and a warm and a cold replay. Each NATS case runs those it supports.
func natsTinyRuns(workload string) []Params {
	const n = 1000
	var ps []Params
	for _, durable := range []bool{false, true} {
		switch workload {
		case AsyncProduce:
			ps = append(ps,
				Params{Records: n, Size: 100, Partitions: 1, Durable: durable},
				Params{Records: n, Size: 1024, Partitions: 16, Durable: durable})
		case SyncProduce:
			ps = append(ps,
				Params{Records: n, Size: 100, Partitions: 1, Goroutines: 1, Durable: durable},
				Params{Records: n, Size: 100, Partitions: 1, Goroutines: 64, Durable: durable})
		case Replay:
			ps = append(ps,
				Params{Records: n, Size: 100, Partitions: 1, Durable: durable},
				Params{Records: n, Size: 100, Partitions: 1, Durable: durable, Cold: true},
				Params{Records: n, Size: 100, Partitions: 16, Durable: durable})
		case Latency:
			ps = append(ps,
				Params{Records: n, Size: 100, Partitions: 1, Rate: 10_000, Durable: durable},
				Params{Records: n, Size: 100, Partitions: 1, Durable: durable})
		}
	}
	return ps
}

func TestNatsCases(t *testing.T) {
	ran := map[string]bool{}
	for _, c := range cases {
		if c.System != "nats" {
			continue
		}
		for _, p := range natsTinyRuns(c.Workload) {
			if !c.Supports(p) {
				continue
			}
			p.Dir = t.TempDir()
			name := fmt.Sprintf("%s/%s/%dB/%dp/%dg/rate%d/cold=%v", c.Workload, c.Variant, p.Size, p.Partitions, p.Goroutines, p.Rate, p.Cold)
			t.Run(name, func(t *testing.T) {
				ran[caseKey(c)] = true
				runNatsCase(t, c, p)
			})
		}
	}
	for _, c := range cases {
		if c.System == "nats" && !ran[caseKey(c)] {
			t.Errorf("case %s supports none of the test's Params", caseKey(c))
		}
	}
}

// runNatsCase runs c once with p and checks what the runner relies on (see
// checkTinyResult) and that it leaves no goroutine behind (the child
// process exits when Run returns, but a server still running would mean
// stop is broken).
func runNatsCase(t *testing.T, c Case, p Params) {
	t.Helper()
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := c.Run(ctx, p)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkTinyResult(t, c.Workload, p, res)
	if n := settledGoroutines(before); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Run, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// settledGoroutines waits up to 5s for the goroutine count to fall to want
// and returns the last count. Goroutines that a shut-down server or closed
// connection has told to stop need a moment to be scheduled and return, so
// this polls, as goleak does.
func settledGoroutines(want int) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNatsVariantsSayWhatTheServerDoes checks the durability each variant's
// label claims against the embedded server's JetStream configuration, and
// that the server opens no port.
func TestNatsVariantsSayWhatTheServerDoes(t *testing.T) {
	for _, syncAlways := range []bool{false, true} {
		n, err := startNats(t.TempDir(), syncAlways)
		if err != nil {
			t.Fatal(err)
		}
		cfg := n.srv.JetStreamConfig()
		addr := n.srv.Addr()
		n.stop()
		if cfg == nil {
			t.Fatal("JetStream is not enabled")
		}
		if cfg.SyncAlways != syncAlways {
			t.Errorf("startNats(syncAlways=%v): server SyncAlways = %v", syncAlways, cfg.SyncAlways)
		}
		if !syncAlways && cfg.SyncInterval != 2*time.Minute {
			t.Errorf("default sync interval = %v, but the variant %q says 2m", cfg.SyncInterval, natsSyncDefault)
		}
		if addr != nil {
			t.Errorf("server listens on %v, want no listener", addr)
		}
	}
	for _, c := range cases {
		if c.System != "nats" {
			continue
		}
		durable := Params{Records: 1, Size: 100, Partitions: 1, Durable: true}
		if c.Supports(durable) != (c.Variant == natsSyncAlways) {
			t.Errorf("%s: Supports(Durable) = %v for variant %q", caseKey(c), c.Supports(durable), c.Variant)
		}
	}
}

// TestNatsRegistersOnlyWhatItCanDo checks that each workload NATS can do has
// exactly one NATS case for each durability it supports, and that the
// eventlog-only workloads have none.
func TestNatsRegistersOnlyWhatItCanDo(t *testing.T) {
	want := map[string][]bool{ // workload -> Durable values with a case
		AsyncProduce: {false, true},
		SyncProduce:  {false, true},
		Replay:       {false},
		Latency:      {false, true},
	}
	for _, c := range cases {
		if c.System != "nats" {
			continue
		}
		if _, ok := want[c.Workload]; !ok {
			t.Errorf("nats registers workload %s", c.Workload)
		}
		if !strings.Contains(c.Variant, "sync") {
			t.Errorf("%s: variant %q does not name the sync setting", caseKey(c), c.Variant)
		}
	}
	for w, durables := range want {
		for _, d := range durables {
			got := 0
			for _, c := range cases {
				if c.System == "nats" && c.Workload == w && c.Supports(Params{Records: 1, Size: 100, Partitions: 1, Durable: d}) {
					got++
				}
			}
			if got != 1 {
				t.Errorf("%s Durable=%v: %d nats cases, want 1", w, d, got)
			}
		}
	}
}
