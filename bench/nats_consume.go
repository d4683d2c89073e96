package main

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// natsDrainTimeout bounds the wait for messages still to arrive once the
// producer is done (or, in a replay, once no message has come for this
// long), so that a lost message fails the run instead of hanging it.
const natsDrainTimeout = 30 * time.Second

// natsConsumers is one ordered consumer per stream, each delivering to a
// callback through Consume.
type natsConsumers struct {
	ccs  []jetstream.ConsumeContext
	errs failures // errors Consume reported; ordered consumers recover from most
}

// consume starts an ordered consumer from the first message of each of
// partitions streams and calls handle with every message, on one goroutine
// per stream (so handle must be safe for concurrent use when partitions >
// 1). Ordered consumers are what nats.go offers to read a stream in order
// without acks: ephemeral, in-memory, flow-controlled pull consumers that
// recreate themselves after a gap. Pull settings are nats.go's defaults.
// The caller must call stop.
func (n *natsNode) consume(ctx context.Context, partitions int, handle func(jetstream.Msg)) (*natsConsumers, error) {
	c := &natsConsumers{}
	for i := range max(partitions, 1) {
		cons, err := n.js.OrderedConsumer(ctx, natsStream(i), jetstream.OrderedConsumerConfig{})
		if err != nil {
			c.stop()
			return nil, fmt.Errorf("ordered consumer of nats stream %s: %w", natsStream(i), err)
		}
		cc, err := cons.Consume(handle, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			c.errs.add(err)
		}))
		if err != nil {
			c.stop()
			return nil, fmt.Errorf("consume nats stream %s: %w", natsStream(i), err)
		}
		c.ccs = append(c.ccs, cc)
	}
	return c, nil
}

// stop stops every consumer and waits until its subscription is closed.
func (c *natsConsumers) stop() {
	for _, cc := range c.ccs {
		cc.Stop()
	}
	for _, cc := range c.ccs {
		<-cc.Closed()
	}
}

// wait returns when done is closed, or with an error when ctx is done or
// progress() (a count of messages handled) has not moved for
// natsDrainTimeout.
func (c *natsConsumers) wait(ctx context.Context, done <-chan struct{}, progress func() int64, want int) error {
	tick := time.NewTicker(natsDrainTimeout)
	defer tick.Stop()
	last := progress()
	for {
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("nats consumers got %d of %d messages: %w (consume errors: %v)", progress(), want, ctx.Err(), c.errs.err("nats consume calls"))
		case <-tick.C:
			now := progress()
			if now == last {
				return fmt.Errorf("nats consumers stuck at %d of %d messages for %v (consume errors: %v)", now, want, natsDrainTimeout, c.errs.err("nats consume calls"))
			}
			last = now
		}
	}
}
