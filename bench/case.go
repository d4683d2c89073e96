package main

import (
	"context"
	"time"
)

// Workload names. A workload is the same work given to every system that
// can do it; Params says how big.
const (
	// AsyncProduce: one goroutine hands Records records of Size bytes to the
	// system without waiting for each (eventlog ProduceAsync, tidwall
	// WriteBatch of 1000 entries, NATS PublishAsync, kgo Produce), spread over
	// Partitions partitions, and waits at the end until all are acknowledged.
	// Durable says whether an acknowledgement means fsynced.
	AsyncProduce = "async-produce"
	// SyncProduce: Goroutines goroutines each call the synchronous produce
	// (eventlog Produce, NATS js.Publish, kgo ProduceSync, a raw tidwall
	// group-commit goroutine) in a loop until Records records are in.
	SyncProduce = "sync-produce"
	// Replay: Records records are written and the store is closed (untimed);
	// then it is reopened and every record read once (timed). Cold drops the
	// files from the page cache before the timed part.
	Replay = "replay"
	// Latency: one producer sends Records records at Rate records/s (0 means
	// as fast as it can, one at a time), and a consumer receives them; each
	// Latencies entry is one record's time from the start of the send call to
	// its arrival in the consumer's hands.
	Latency = "latency"
	// FanOut: one producer async-produces Records records while Groups
	// consumer groups tail the topic; Elapsed is the producer's time alone.
	FanOut = "fanout"
	// IdlePartitions: Partitions partitions get BytesPerPartition each, then
	// the store idles; the child reports its RSS after idling in Extra["rss_idle"].
	IdlePartitions = "idle-partitions"
	// OpenLog: Partitions partitions get BytesPerPartition each and the store
	// is closed (untimed); then it is opened and made ready to append to and
	// read every partition (timed).
	OpenLog = "open"
)

// Params sizes one run of a workload. Fields a workload does not use are zero.
type Params struct {
	Dir               string // an empty directory on disk for this run only
	Records           int    // records to produce or read
	Size              int    // value bytes per record (100 or 1024); keys are nil
	Partitions        int    // partitions (streams/WALs) the records are spread over
	Goroutines        int    // SyncProduce: concurrent callers
	Durable           bool   // ack means fsynced (true) or written without fsync
	Rate              int    // Latency: records per second; 0 = saturated
	Groups            int    // FanOut: consumer groups tailing the producer
	Cold              bool   // Replay: drop the page cache before reading
	BytesPerPartition int64  // IdlePartitions, OpenLog
}

// Result is what one run measured. Elapsed covers only the timed part.
type Result struct {
	Records   int                // records the timed part handled
	Elapsed   time.Duration      // timed part only
	Latencies []time.Duration    // Latency: one per record
	Extra     map[string]float64 // anything else, e.g. "rss_idle" bytes
}

// Case is one system doing one workload. Run is called in a child process
// of its own (so peak RSS is this case's alone) and must release everything
// it started before returning.
type Case struct {
	Workload string
	System   string // "eventlog", "tidwall", "nats", "watermill", "kfake"
	// Variant names the durability honestly, e.g. "fsync each batch",
	// "no fsync", "sync_interval 2m (default)", "sync always", "in memory".
	Variant string
	// Supports reports whether the case can run with these params (a system
	// with no notion of partitions, say, skips Partitions 16). Nil means all.
	Supports func(p Params) bool
	Run      func(ctx context.Context, p Params) (Result, error)
}

// cases is every registered case; each system's file adds its own in init.
var cases []Case

// register adds cases to the comparison.
func register(cs ...Case) { cases = append(cases, cs...) }
