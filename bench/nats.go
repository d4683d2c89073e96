package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The NATS cases run an embedded nats-server with JetStream on a file store
// in the child process, and talk to it with nats.go over the in-process
// connection (no listener, no port). Each partition is a stream of its own
// (see natsNode.createStreams for why).
//
// What an acknowledgement means is the server's durability setting, which
// applies to every stream:
//   - natsSyncAlways: the server fsyncs each message's block file before it
//     acks the message (server option SyncAlways; "sync_always" in a config).
//   - natsSyncDefault: the server writes to the block file and fsyncs every
//     SyncInterval, whose default is 2 minutes; an ack then means "in the
//     operating system's page cache".
const (
	natsSyncAlways  = "sync always"
	natsSyncDefault = "default sync_interval (2m)"
)

func init() {
	durable := func(p Params) bool { return p.Durable }
	notDurable := func(p Params) bool { return !p.Durable }
	register(
		Case{Workload: AsyncProduce, System: "nats", Variant: natsSyncDefault, Supports: notDurable, Run: runNatsAsyncProduce},
		Case{Workload: AsyncProduce, System: "nats", Variant: natsSyncAlways, Supports: durable, Run: runNatsAsyncProduce},
		Case{Workload: SyncProduce, System: "nats", Variant: natsSyncDefault, Supports: notDurable, Run: runNatsSyncProduce},
		Case{Workload: SyncProduce, System: "nats", Variant: natsSyncAlways, Supports: durable, Run: runNatsSyncProduce},
		// Replay writes untimed, so durability does not change what is
		// timed; the records are written under the default sync interval
		// and the server's clean shutdown flushes them.
		Case{Workload: Replay, System: "nats", Variant: natsSyncDefault, Supports: notDurable, Run: runNatsReplay},
		Case{Workload: Latency, System: "nats", Variant: natsSyncDefault, Supports: notDurable, Run: runNatsLatency},
		Case{Workload: Latency, System: "nats", Variant: natsSyncAlways, Supports: durable, Run: runNatsLatency},
	)
}

// natsStartTimeout bounds how long the embedded server may take to start,
// including JetStream's recovery of the streams already on disk.
const natsStartTimeout = time.Minute

// natsNode is an embedded nats-server and one client connection to it.
type natsNode struct {
	srv *server.Server
	nc  *nats.Conn
	js  jetstream.JetStream
	// asyncErrs collects the failures of PublishAsync acks (a negative ack
	// or an ack timeout), which nats.go reports to a handler.
	asyncErrs failures
}

// natsStoreDir is where the server of a run under dir keeps JetStream's
// files.
func natsStoreDir(dir string) string { return filepath.Join(dir, "nats") }

// startNats starts a server with JetStream storing under natsStoreDir(dir),
// fsyncing every message if syncAlways and otherwise on the default
// interval, and connects a client to it in process. The JetStream context
// has nats.go's defaults (such as at most 4000 async publishes awaiting an
// ack). The caller must call stop.
func startNats(dir string, syncAlways bool) (*natsNode, error) {
	opts := &server.Options{
		ServerName: "bench",
		JetStream:  true,
		StoreDir:   natsStoreDir(dir),
		SyncAlways: syncAlways,
		// SyncInterval zero means the server's default (2 minutes).
		DontListen: true, // in-process connections only: no port at all
		NoLog:      true,
		NoSigs:     true,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("new nats server in %s: %w", opts.StoreDir, err)
	}
	srv.Start()
	if !srv.ReadyForConnections(natsStartTimeout) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("nats server in %s not ready after %v", opts.StoreDir, natsStartTimeout)
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv), nats.Name("eventlog-bench"))
	if err != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("connect to in-process nats server: %w", err)
	}
	n := &natsNode{srv: srv, nc: nc}
	n.js, err = jetstream.New(nc, jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, _ *nats.Msg, err error) {
		n.asyncErrs.add(err)
	}))
	if err != nil {
		n.stop()
		return nil, fmt.Errorf("jetstream context: %w", err)
	}
	return n, nil
}

// stop closes the client and shuts the server down, waiting until every
// server goroutine has returned and the store is closed (and, without
// sync always, flushed), so that a restart on the same directory sees
// everything and the child process can exit.
func (n *natsNode) stop() {
	n.nc.Close()
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
}

// startNatsStreams starts a server as startNats does and creates
// partitions streams on it (see createStreams). The caller must call stop.
func startNatsStreams(ctx context.Context, dir string, syncAlways bool, partitions int) (*natsNode, error) {
	n, err := startNats(dir, syncAlways)
	if err != nil {
		return nil, err
	}
	if err := n.createStreams(ctx, partitions); err != nil {
		n.stop()
		return nil, err
	}
	return n, nil
}

// natsStream names partition i's stream.
func natsStream(i int) string { return fmt.Sprintf("P%d", i) }

// natsSubject is the one subject partition i's stream captures.
func natsSubject(i int) string { return fmt.Sprintf("p.%d", i) }

// natsSubjects returns the subjects of partitions partitions (at least one).
func natsSubjects(partitions int) []string {
	s := make([]string, max(partitions, 1))
	for i := range s {
		s[i] = natsSubject(i)
	}
	return s
}

// createStreams creates one file-backed stream per partition.
//
// Partitions are streams, not subjects of one stream, because that is the
// fairer match for a partition: each stream has its own message blocks,
// its own sequence, its own lock and its own flusher, as each eventlog
// partition has its own WAL and writer, while subjects of one stream share
// one file store, one sequence and one lock. One stream with 16 subjects
// would be a single partition with an index.
func (n *natsNode) createStreams(ctx context.Context, partitions int) error {
	for i := range max(partitions, 1) {
		_, err := n.js.CreateStream(ctx, jetstream.StreamConfig{
			Name:     natsStream(i),
			Subjects: []string{natsSubject(i)},
			Storage:  jetstream.FileStorage,
			Replicas: 1,
		})
		if err != nil {
			return fmt.Errorf("create nats stream %s: %w", natsStream(i), err)
		}
	}
	return nil
}

// publishAll hands records records of value to PublishAsync, spreading
// them round-robin over subjects, and waits until every one is
// acknowledged. When nats.go's limit of pending acks is reached,
// PublishAsync blocks (up to its stall wait) and, if no ack came in that
// time, fails with ErrTooManyStalledMsgs; a caller then tries again, as
// this does.
func (n *natsNode) publishAll(ctx context.Context, subjects []string, records int, value func(i int) []byte) error {
	js := n.js
	for i := range records {
		subj := subjects[i%len(subjects)]
		for {
			_, err := js.PublishAsync(subj, value(i))
			if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				if ctx.Err() != nil {
					return fmt.Errorf("nats async publish %d of %d: %w", i, records, ctx.Err())
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("nats async publish %d of %d: %w", i, records, err)
			}
			break
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return fmt.Errorf("nats: waiting for %d async publish acks: %w", js.PublishAsyncPending(), ctx.Err())
	}
	return n.asyncErrs.err("nats async publish acks")
}
