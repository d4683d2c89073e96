package main

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kfakeTopic is the topic every kfake case seeds and uses.
const kfakeTopic = "bench"

// kfakeVariant says what an acknowledgement from kfake means: the record is
// in the fake broker's memory and nowhere else.
const kfakeVariant = "in memory"

func init() {
	// kfake keeps everything in memory, so a durable run or a cold replay
	// would not be the same work; those rows show no kfake figure.
	inMemory := func(p Params) bool { return !p.Durable && !p.Cold }
	register(
		Case{Workload: AsyncProduce, System: "kfake", Variant: kfakeVariant, Supports: inMemory, Run: runKfakeAsyncProduce},
		Case{Workload: SyncProduce, System: "kfake", Variant: kfakeVariant, Supports: inMemory, Run: runKfakeSyncProduce},
		Case{Workload: Replay, System: "kfake", Variant: kfakeVariant, Supports: inMemory, Run: runKfakeReplay},
		Case{Workload: Latency, System: "kfake", Variant: kfakeVariant, Supports: inMemory, Run: runKfakeLatency},
	)
}

// kfakeCluster is a fake Kafka cluster of one broker listening on an
// ephemeral port of 127.0.0.1 (kfake's default address; we pass no
// Ports), holding kfakeTopic with p.Partitions partitions in memory.
type kfakeCluster struct {
	*kfake.Cluster
	addrs []string
}

// startKfake starts the cluster; the caller must Close it.
func startKfake(p Params) (*kfakeCluster, error) {
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.SeedTopics(int32(max(p.Partitions, 1)), kfakeTopic),
	)
	if err != nil {
		return nil, fmt.Errorf("start kfake cluster: %w", err)
	}
	return &kfakeCluster{Cluster: c, addrs: c.ListenAddrs()}, nil
}

// client returns a kgo client of the cluster producing to kfakeTopic by
// default, with kgo's defaults otherwise (acks all, idempotent, the sticky
// uniform-bytes partitioner for nil keys, 10ms linger) unless opts say more.
// The one default we change is compression: kgo snappy-compresses batches
// by default, which turns the benchmark's zero-filled values into almost
// nothing, while every other system stores the bytes as given.
// The caller must Close it.
func (c *kfakeCluster) client(opts ...kgo.Opt) (*kgo.Client, error) {
	all := append([]kgo.Opt{
		kgo.SeedBrokers(c.addrs...),
		kgo.DefaultProduceTopic(kfakeTopic),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
	}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		return nil, fmt.Errorf("new kgo client of %v: %w", c.addrs, err)
	}
	return cl, nil
}

// warmProducer produces one untimed record so the client has its metadata
// and connection before the timed part, as a long-running producer would.
func warmProducer(ctx context.Context, cl *kgo.Client, size int) error {
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: seqValue(warmupSeq, size)}).FirstErr(); err != nil {
		return fmt.Errorf("kfake warm-up produce: %w", err)
	}
	return nil
}
