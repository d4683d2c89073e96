package main

import (
	"context"
	"errors"
	"fmt"
)

// runLatency is the frame of a latency run with one producer and one
// consumer. receive runs on a goroutine of its own and feeds a until every
// timed record has arrived or it fails. warm, unless nil, sends the
// warm-up record, and the run waits for a.ready; then send sends the timed
// records, marking each start on a.clock. ctx is the context of both sides
// and cancel cancels it: a failure on one side calls cancel, which must end
// the other side's waits. receive has returned when runLatency does, so
// whatever it used is free again. Elapsed runs from just before send to
// the last arrival; on failure the Result holds only the records arrived.
func runLatency(ctx context.Context, cancel context.CancelFunc, system string, a *arrivals, receive, warm, send func(context.Context) error) (Result, error) {
	received := make(chan error, 1)
	go func() {
		err := receive(ctx)
		if err != nil {
			cancel() // stop the producer too
		}
		received <- err
	}()

	var sendErr error
	if warm != nil {
		if sendErr = warm(ctx); sendErr == nil {
			select {
			case <-a.ready:
			case <-ctx.Done():
				sendErr = fmt.Errorf("%s consumer never saw the warm-up record: %w", system, ctx.Err())
			}
		}
	}
	first := a.clock.now()
	if sendErr == nil {
		sendErr = send(ctx)
	}
	if sendErr != nil {
		cancel() // unblocks the receiver, which reports what it got
	}
	if err := errors.Join(sendErr, <-received); err != nil {
		return Result{Records: int(a.arrived())}, err
	}
	return a.result(first), nil
}
