package eventlogotel

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/eventlog/eventlog"
)

// ScopeName is the instrumentation scope (the Meter name) the instruments
// are created under: this package's import path.
const ScopeName = "github.com/eventlog/eventlog/eventlogotel"

// The attribute keys of the observations.
const (
	// TopicKey names the topic of a partition's or a group's series.
	TopicKey attribute.Key = "topic"
	// PartitionKey is the partition number (an int64) of a partition's or
	// a group's series; WithoutPartitionAttribute leaves it out.
	PartitionKey attribute.Key = "partition"
	// GroupKey names the consumer group of an eventlog.group.lag series.
	GroupKey attribute.Key = "group"
)

// Option changes what Register observes.
type Option func(*config)

type config struct {
	perPartition bool
	attrs        []attribute.KeyValue
}

// WithoutPartitionAttribute reports one series per topic (and per group and
// topic for eventlog.group.lag) instead of one per partition, summing the
// partitions' values and taking the largest of their maxima. It leaves out
// eventlog.partition.first_offset and eventlog.partition.next_offset. Use
// it when a Log has so many partitions that a series each costs too much.
func WithoutPartitionAttribute() Option {
	return func(c *config) { c.perPartition = false }
}

// WithAttributes adds attrs to every observation, such as
// attribute.String("log", "orders") to tell apart the Logs of one process
// registered with one MeterProvider. The keys must differ from TopicKey,
// PartitionKey and GroupKey.
func WithAttributes(attrs ...attribute.KeyValue) Option {
	return func(c *config) { c.attrs = append(c.attrs, attrs...) }
}

// Registration is the observation of one Log, made by Register. Its methods
// are safe for concurrent use.
type Registration struct {
	log     *eventlog.Log
	cfg     config
	inst    *instruments
	reg     metric.Registration
	stopped atomic.Bool
}

// Register creates the instruments listed in the package documentation on
// a Meter of mp named ScopeName, and registers one callback that observes
// them all from one l.Stats snapshot at each collection. Observation goes
// on until Unregister, or in effect until l is closed: after Close the
// snapshot is empty and nothing is observed.
//
// Registering one Log twice with one MeterProvider reports its values twice
// under the same attributes; do not. It returns an error if l or mp is nil,
// or if mp fails to create an instrument or register the callback.
func Register(l *eventlog.Log, mp metric.MeterProvider, opts ...Option) (*Registration, error) {
	if l == nil || mp == nil {
		return nil, errors.New("eventlogotel: Register needs a Log and a MeterProvider")
	}
	cfg := config{perPartition: true}
	for _, o := range opts {
		o(&cfg)
	}
	inst, err := newInstruments(mp.Meter(ScopeName), cfg.perPartition)
	if err != nil {
		return nil, fmt.Errorf("eventlogotel: creating instruments: %w", err)
	}
	r := &Registration{log: l, cfg: cfg, inst: inst}
	r.reg, err = mp.Meter(ScopeName).RegisterCallback(r.observe, inst.all...)
	if err != nil {
		return nil, fmt.Errorf("eventlogotel: registering the callback: %w", err)
	}
	return r, nil
}

// Unregister stops the observation: collections that start after it
// returns do not ask the Log for Stats (one in progress may finish its
// snapshot), and the Log's series end. Calling it again does nothing and
// returns nil.
func (r *Registration) Unregister() error {
	if r.stopped.Swap(true) {
		return nil
	}
	if err := r.reg.Unregister(); err != nil {
		return fmt.Errorf("eventlogotel: unregistering the callback: %w", err)
	}
	return nil
}

// observe is the callback: one snapshot, every instrument.
func (r *Registration) observe(_ context.Context, o metric.Observer) error {
	if r.stopped.Load() {
		return nil
	}
	r.inst.observe(o, r.log.Stats(), r.cfg)
	return nil
}
