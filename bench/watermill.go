package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

// watermillTopic is the one topic the Watermill case publishes to.
const watermillTopic = "bench"

func init() {
	// GoChannel has no partitions and keeps nothing, so only the
	// one-partition, no-sync latency run compares like with like.
	supports := func(p Params) bool { return !p.Durable && !p.Cold && p.Partitions <= 1 }
	register(Case{
		Workload: Latency,
		System:   "watermill",
		Variant:  "in memory, not durable",
		Supports: supports,
		Run: func(ctx context.Context, p Params) (Result, error) {
			return runWatermillLatency(ctx, p, gochannel.Config{})
		},
	}, Case{
		// The same with Publish waiting for the subscriber's Ack: no
		// goroutine per message, so lower latency. The targets compare
		// with the default above (registered first); the table shows both.
		Workload: Latency,
		System:   "watermill",
		Variant:  "in memory, not durable, Publish waits for Ack",
		Supports: supports,
		Run: func(ctx context.Context, p Params) (Result, error) {
			return runWatermillLatency(ctx, p, gochannel.Config{BlockPublishUntilSubscriberAck: true})
		},
	})
}

// runWatermillLatency publishes p.Records messages of p.Size bytes on a
// Watermill GoChannel at p.Rate per second, one Publish at a time, to one
// subscriber. A latency is from just before Publish to the moment the
// subscriber's goroutine receives the message (before its Ack).
//
// With the zero Config a user starts with (OutputChannelBuffer 0,
// Persistent false, BlockPublishUntilSubscriberAck false) Publish hands
// each message to a goroutine of its own and returns, so with Rate 0
// messages queue in those goroutines and may arrive out of order; each
// message carries its sequence number in its payload.
func runWatermillLatency(ctx context.Context, p Params, cfg gochannel.Config) (Result, error) {
	pubSub := gochannel.NewGoChannel(cfg, watermill.NopLogger{})
	defer pubSub.Close()

	// Cancelling runCtx closes the subscription, which ends the receiver.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs, err := pubSub.Subscribe(runCtx, watermillTopic)
	if err != nil {
		return Result{}, fmt.Errorf("watermill subscribe: %w", err)
	}

	a := newArrivals(p.Records, 0)
	receive := func(ctx context.Context) error {
		for !a.complete() {
			msg, ok := <-msgs
			if !ok {
				return fmt.Errorf("watermill subscription closed after %d of %d messages: %w", a.arrived(), p.Records, ctx.Err())
			}
			at := a.clock.now()
			msg.Ack()
			if err := a.arrive(msg.Payload, at); err != nil {
				return fmt.Errorf("watermill message %s: %w", msg.UUID, err)
			}
		}
		return nil
	}
	send := func(ctx context.Context) error {
		sched := newSendSchedule(p.Rate)
		for i := range p.Records {
			if err := sched.wait(ctx, i); err != nil {
				return err
			}
			msg := message.NewMessage(strconv.Itoa(i), seqValue(uint64(i), p.Size))
			a.clock.sent(i)
			if err := pubSub.Publish(watermillTopic, msg); err != nil {
				return fmt.Errorf("watermill publish %d: %w", i, err)
			}
		}
		return nil
	}
	return runLatency(runCtx, cancel, "watermill", a, receive, nil, send)
}
