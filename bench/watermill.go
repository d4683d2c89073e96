package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

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

	subCtx, cancelSub := context.WithCancel(ctx)
	defer cancelSub()
	msgs, err := pubSub.Subscribe(subCtx, watermillTopic)
	if err != nil {
		return Result{}, fmt.Errorf("watermill subscribe: %w", err)
	}

	clock := newLatencyClock(p.Records)
	lats := make([]time.Duration, p.Records)
	type recvd struct {
		n    int
		last time.Duration
		err  error
	}
	done := make(chan recvd, 1)
	go func() {
		var r recvd
		seen := make([]bool, p.Records)
		for r.n < p.Records {
			msg, ok := <-msgs
			if !ok {
				r.err = fmt.Errorf("watermill subscription closed after %d of %d messages: %w", r.n, p.Records, subCtx.Err())
				break
			}
			at := clock.now()
			seq, ok := valueSeq(msg.Payload)
			msg.Ack()
			if !ok || seq >= uint64(p.Records) || seen[seq] {
				r.err = fmt.Errorf("watermill message %s: unexpected sequence %d", msg.UUID, seq)
				break
			}
			seen[seq] = true
			lats[seq] = clock.since(int(seq), at)
			r.n++
			r.last = at
		}
		done <- r
	}()

	sched := newSendSchedule(p.Rate)
	first := clock.now()
	var pubErr error
	for i := range p.Records {
		if pubErr = sched.wait(ctx, i); pubErr != nil {
			break
		}
		msg := message.NewMessage(strconv.Itoa(i), seqValue(uint64(i), p.Size))
		clock.sent(i)
		if err := pubSub.Publish(watermillTopic, msg); err != nil {
			pubErr = fmt.Errorf("watermill publish %d: %w", i, err)
			break
		}
	}
	if pubErr != nil {
		cancelSub() // unblocks the receiver, which reports what it got
	}
	r := <-done
	if err := errors.Join(pubErr, r.err); err != nil {
		return Result{Records: r.n}, err
	}
	return Result{Records: r.n, Elapsed: r.last - first, Latencies: lats}, nil
}
