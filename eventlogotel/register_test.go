package eventlogotel_test

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/eventlog/eventlog"
	"github.com/eventlog/eventlog/eventlogotel"
)

// kind is how a metric's data is exported.
type kind string

const (
	counter kind = "counter"       // monotonic cumulative Sum
	upDown  kind = "updowncounter" // non-monotonic cumulative Sum
	gauge   kind = "gauge"
)

// metric is one exported metric: its unit, kind and points by attributes
// (attribute.Set encoded as "k=v,k=v", sorted by key).
type metric struct {
	unit   string
	kind   kind
	points map[string]float64
}

// collect collects r once and returns the metrics of ScopeName by name.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]metric {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(t.Context(), &rm); err != nil {
		t.Fatalf("Collect: %v", err)
	}
	got := map[string]metric{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != eventlogotel.ScopeName {
			t.Errorf("scope %q; want only %q", sm.Scope.Name, eventlogotel.ScopeName)
			continue
		}
		for _, m := range sm.Metrics {
			e := metric{unit: m.Unit, points: map[string]float64{}}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				e.kind = sumKind(t, m.Name, d.IsMonotonic, d.Temporality)
				addPoints(e.points, d.DataPoints)
			case metricdata.Sum[float64]:
				e.kind = sumKind(t, m.Name, d.IsMonotonic, d.Temporality)
				addPoints(e.points, d.DataPoints)
			case metricdata.Gauge[int64]:
				e.kind = gauge
				addPoints(e.points, d.DataPoints)
			case metricdata.Gauge[float64]:
				e.kind = gauge
				addPoints(e.points, d.DataPoints)
			default:
				t.Fatalf("%s: unexpected data %T", m.Name, m.Data)
			}
			got[m.Name] = e
		}
	}
	return got
}

func sumKind(t *testing.T, name string, monotonic bool, tmp metricdata.Temporality) kind {
	t.Helper()
	if tmp != metricdata.CumulativeTemporality {
		t.Errorf("%s: temporality %v; want cumulative", name, tmp)
	}
	if monotonic {
		return counter
	}
	return upDown
}

func addPoints[N int64 | float64](dst map[string]float64, dps []metricdata.DataPoint[N]) {
	for _, dp := range dps {
		dst[dp.Attributes.Encoded(attribute.DefaultEncoder())] = float64(dp.Value)
	}
}

// value returns the value of the named metric's point with attrs, failing
// the test if there is none.
func value(t *testing.T, ms map[string]metric, name, attrs string) float64 {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		t.Fatalf("no metric %s; have %v", name, slices.Sorted(maps.Keys(ms)))
	}
	v, ok := m.points[attrs]
	if !ok {
		t.Fatalf("%s has no point {%s}; have %v", name, attrs, m.points)
	}
	return v
}

// register registers l with a new MeterProvider whose ManualReader it
// returns; the provider is shut down when the test ends.
func register(t *testing.T, l *eventlog.Log, opts ...eventlogotel.Option) (*sdkmetric.ManualReader, *eventlogotel.Registration) {
	t.Helper()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() {
		if err := mp.Shutdown(t.Context()); err != nil {
			t.Errorf("MeterProvider.Shutdown: %v", err)
		}
	})
	reg, err := eventlogotel.Register(l, mp, opts...)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	return r, reg
}

func open(t *testing.T, dir string, opts *eventlog.Options) *eventlog.Log {
	t.Helper()
	l, err := eventlog.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// produce creates topic with len(counts) partitions and produces
// counts[p] records of value to partition p, one at a time.
func produce(t *testing.T, l *eventlog.Log, topic string, value []byte, counts ...int) {
	t.Helper()
	if _, err := l.CreateTopic(topic, eventlog.TopicConfig{Partitions: len(counts)}); err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	p, err := l.NewProducer(&eventlog.ProducerOptions{Partitioner: eventlog.ManualPartitioner()})
	if err != nil {
		t.Fatalf("NewProducer: %v", err)
	}
	defer p.Close()
	for part, n := range counts {
		for range n {
			if _, err := p.Produce(t.Context(), eventlog.Record{Topic: topic, Partition: part, Value: value}); err != nil {
				t.Fatalf("Produce: %v", err)
			}
		}
	}
}

// The documented metrics, each with its unit and kind.
var documented = map[string]metric{
	"eventlog.append.records":           {unit: "{record}", kind: counter},
	"eventlog.append.bytes":             {unit: "By", kind: counter},
	"eventlog.append.batches":           {unit: "{batch}", kind: counter},
	"eventlog.append.batch.max":         {unit: "{record}", kind: gauge},
	"eventlog.fsyncs":                   {unit: "{fsync}", kind: counter},
	"eventlog.fsync.time":               {unit: "s", kind: counter},
	"eventlog.fsync.time.max":           {unit: "s", kind: gauge},
	"eventlog.read.records":             {unit: "{record}", kind: counter},
	"eventlog.read.batches":             {unit: "{batch}", kind: counter},
	"eventlog.segments":                 {unit: "{segment}", kind: upDown},
	"eventlog.segment.bytes":            {unit: "By", kind: upDown},
	"eventlog.partition.first_offset":   {unit: "{offset}", kind: gauge},
	"eventlog.partition.next_offset":    {unit: "{offset}", kind: gauge},
	"eventlog.group.lag":                {unit: "{record}", kind: upDown},
	"eventlog.memory.usage":             {unit: "By", kind: upDown},
	"eventlog.memory.limit":             {unit: "By", kind: upDown},
	"eventlog.memory.loaded_partitions": {unit: "{partition}", kind: upDown},
	"eventlog.memory.releases":          {unit: "{release}", kind: counter},
}

func TestReportsEveryDocumentedMetric(t *testing.T) {
	l := open(t, t.TempDir(), nil)
	produce(t, l, "orders", []byte("v"), 1)
	if _, err := l.ConsumerGroup("billing", &eventlog.GroupOptions{Topics: []string{"orders"}}); err != nil {
		t.Fatal(err)
	}
	r, _ := register(t, l)
	got := collect(t, r)
	for name, want := range documented {
		m, ok := got[name]
		if !ok {
			t.Errorf("metric %s missing", name)
			continue
		}
		if m.unit != want.unit || m.kind != want.kind {
			t.Errorf("%s: unit %q, kind %s; want %q, %s", name, m.unit, m.kind, want.unit, want.kind)
		}
	}
	for name := range got {
		if _, ok := documented[name]; !ok {
			t.Errorf("metric %s is not documented", name)
		}
	}
}

func TestPerPartitionValues(t *testing.T) {
	l := open(t, t.TempDir(), &eventlog.Options{MaxResidentBytes: 64 << 20})
	r, _ := register(t, l)
	value10 := bytes.Repeat([]byte("x"), 10)
	produce(t, l, "orders", value10, 7, 0, 3)

	ms := collect(t, r)
	for part, n := range []float64{7, 0, 3} {
		attrs := fmt.Sprintf("partition=%d,topic=orders", part)
		if got := value(t, ms, "eventlog.append.records", attrs); got != n {
			t.Errorf("append.records{%s} = %v; want %v", attrs, got, n)
		}
		if got := value(t, ms, "eventlog.append.bytes", attrs); got != 10*n {
			t.Errorf("append.bytes{%s} = %v; want %v", attrs, got, 10*n)
		}
		if got := value(t, ms, "eventlog.partition.next_offset", attrs); got != n {
			t.Errorf("partition.next_offset{%s} = %v; want %v", attrs, got, n)
		}
		if got := value(t, ms, "eventlog.partition.first_offset", attrs); got != 0 {
			t.Errorf("partition.first_offset{%s} = %v; want 0", attrs, got)
		}
		// Produced one at a time under SyncAlways: a batch and an fsync each.
		if got := value(t, ms, "eventlog.append.batches", attrs); got != n {
			t.Errorf("append.batches{%s} = %v; want %v", attrs, got, n)
		}
		if got := value(t, ms, "eventlog.fsyncs", attrs); got != n {
			t.Errorf("fsyncs{%s} = %v; want %v", attrs, got, n)
		}
		total, longest := value(t, ms, "eventlog.fsync.time", attrs), value(t, ms, "eventlog.fsync.time.max", attrs)
		if (n > 0) != (total > 0) || longest > total || longest < total/n {
			t.Errorf("fsync.time, fsync.time.max {%s} = %v, %v; want > 0 for %v fsyncs, max <= total, max >= mean", attrs, total, longest, n)
		}
	}
	if got := value(t, ms, "eventlog.segments", "partition=0,topic=orders"); got != 1 {
		t.Errorf("segments{orders/0} = %v; want 1", got)
	}
	if got := value(t, ms, "eventlog.segment.bytes", "partition=0,topic=orders"); got <= 70 {
		t.Errorf("segment.bytes{orders/0} = %v; want more than the 70 payload bytes", got)
	}
	if got := value(t, ms, "eventlog.memory.limit", ""); got != 64<<20 {
		t.Errorf("memory.limit = %v; want %v", got, 64<<20)
	}
	if got := value(t, ms, "eventlog.memory.usage", ""); got <= 0 {
		t.Errorf("memory.usage = %v; want > 0", got)
	}
	if len(ms["eventlog.group.lag"].points) != 0 {
		t.Errorf("group.lag without groups = %v; want no points", ms["eventlog.group.lag"].points)
	}

	// Reading shows up at the next collection: counters are cumulative.
	part, err := mustTopic(t, l, "orders").Partition(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range part.Read(t.Context(), 2) {
		if err != nil {
			t.Fatal(err)
		}
	}
	ms = collect(t, r)
	if got := value(t, ms, "eventlog.read.records", "partition=0,topic=orders"); got != 5 {
		t.Errorf("read.records{orders/0} after reading from offset 2 of 7 = %v; want 5", got)
	}
	if got := value(t, ms, "eventlog.append.records", "partition=0,topic=orders"); got != 7 {
		t.Errorf("append.records{orders/0} at the second collection = %v; want 7 still", got)
	}
}

func mustTopic(t *testing.T, l *eventlog.Log, name string) *eventlog.Topic {
	t.Helper()
	tp, err := l.Topic(name)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// commitGroup makes group g on topic and commits offsets for it, one per
// partition, as its only member. The topic must hold records.
func commitGroup(t *testing.T, l *eventlog.Log, g, topic string, offsets ...int64) {
	t.Helper()
	grp, err := l.ConsumerGroup(g, &eventlog.GroupOptions{Topics: []string{topic}})
	if err != nil {
		t.Fatalf("ConsumerGroup: %v", err)
	}
	c, err := grp.Join(t.Context())
	if err != nil {
		t.Fatalf("Join: %v", err)
	}
	defer c.Close()
	// The member owns its partitions from its first Poll on.
	if _, err := c.Poll(t.Context()); err != nil {
		t.Fatalf("Poll: %v", err)
	}
	offs := map[eventlog.TopicPartition]int64{}
	for p, off := range offsets {
		offs[eventlog.TopicPartition{Topic: topic, Partition: p}] = off
	}
	if err := c.CommitOffsets(t.Context(), offs); err != nil {
		t.Fatalf("CommitOffsets: %v", err)
	}
}

func TestGroupLag(t *testing.T) {
	l := open(t, "", &eventlog.Options{InMemory: true})
	produce(t, l, "orders", []byte("v"), 10, 10)
	commitGroup(t, l, "billing", "orders", 4, 7)
	r, _ := register(t, l)

	ms := collect(t, r)
	for attrs, want := range map[string]float64{
		"group=billing,partition=0,topic=orders": 6,
		"group=billing,partition=1,topic=orders": 3,
	} {
		if got := value(t, ms, "eventlog.group.lag", attrs); got != want {
			t.Errorf("group.lag{%s} = %v; want %v", attrs, got, want)
		}
	}
	// The commits are appends to the internal topic, reported like any other.
	var commits float64
	for attrs, v := range ms["eventlog.append.records"].points {
		if bytes.Contains([]byte(attrs), []byte("topic=__consumer_offsets")) {
			commits += v
		}
	}
	if commits < 1 {
		t.Errorf("append.records of __consumer_offsets = %v; want the commit counted", commits)
	}
	// An InMemory Log has no memory budget to report.
	for _, name := range []string{"eventlog.memory.usage", "eventlog.memory.limit", "eventlog.memory.loaded_partitions", "eventlog.memory.releases"} {
		if m, ok := ms[name]; ok {
			t.Errorf("InMemory Log: %s = %v; want no points", name, m.points)
		}
	}
}

func TestWithoutPartitionAttribute(t *testing.T) {
	l := open(t, "", &eventlog.Options{InMemory: true})
	produce(t, l, "orders", []byte("abc"), 5, 2, 3)
	produce(t, l, "audit", []byte("z"), 4)
	commitGroup(t, l, "billing", "orders", 1, 1, 1)
	r, _ := register(t, l, eventlogotel.WithoutPartitionAttribute())

	ms := collect(t, r)
	for _, tc := range []struct {
		name, attrs string
		want        float64
	}{
		{"eventlog.append.records", "topic=orders", 10},
		{"eventlog.append.bytes", "topic=orders", 30},
		{"eventlog.append.records", "topic=audit", 4},
		{"eventlog.append.batch.max", "topic=orders", 1},
		{"eventlog.segments", "topic=orders", 3},
		{"eventlog.group.lag", "group=billing,topic=orders", 7},
	} {
		if got := value(t, ms, tc.name, tc.attrs); got != tc.want {
			t.Errorf("%s{%s} = %v; want %v", tc.name, tc.attrs, got, tc.want)
		}
	}
	for name, m := range ms {
		for attrs := range m.points {
			if bytes.Contains([]byte(attrs), []byte("partition=")) {
				t.Errorf("%s{%s}: has a partition attribute", name, attrs)
			}
		}
	}
	for _, name := range []string{"eventlog.partition.first_offset", "eventlog.partition.next_offset"} {
		if _, ok := ms[name]; ok {
			t.Errorf("%s reported without the partition attribute", name)
		}
	}
}

// Two Logs on one MeterProvider are told apart by WithAttributes.
func TestWithAttributes(t *testing.T) {
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	defer mp.Shutdown(t.Context())
	for i, name := range []string{"a", "b"} {
		l := open(t, "", &eventlog.Options{InMemory: true})
		produce(t, l, "t", []byte("v"), i+1)
		reg, err := eventlogotel.Register(l, mp, eventlogotel.WithAttributes(attribute.String("log", name)))
		if err != nil {
			t.Fatal(err)
		}
		defer reg.Unregister()
	}
	ms := collect(t, r)
	for attrs, want := range map[string]float64{
		"log=a,partition=0,topic=t": 1,
		"log=b,partition=0,topic=t": 2,
	} {
		if got := value(t, ms, "eventlog.append.records", attrs); got != want {
			t.Errorf("append.records{%s} = %v; want %v", attrs, got, want)
		}
	}
}

func TestUnregisterStopsObservation(t *testing.T) {
	l := open(t, t.TempDir(), nil)
	produce(t, l, "t", []byte("v"), 3)
	r, reg := register(t, l)
	if ms := collect(t, r); value(t, ms, "eventlog.append.records", "partition=0,topic=t") != 3 {
		t.Fatalf("before Unregister: append.records = %v; want 3", ms["eventlog.append.records"].points)
	}
	if err := reg.Unregister(); err != nil {
		t.Fatalf("Unregister: %v", err)
	}
	if err := reg.Unregister(); err != nil {
		t.Errorf("second Unregister: %v; want nil", err)
	}
	if ms := collect(t, r); len(ms) != 0 {
		t.Errorf("after Unregister: collected %v; want nothing", ms)
	}
}

func TestClosedLogObservesNothing(t *testing.T) {
	l := open(t, t.TempDir(), nil)
	produce(t, l, "t", []byte("v"), 3)
	r, _ := register(t, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if ms := collect(t, r); len(ms) != 0 {
		t.Errorf("after Log.Close: collected %v; want nothing", ms)
	}
}

func TestRegisterNeedsLogAndProvider(t *testing.T) {
	l := open(t, "", &eventlog.Options{InMemory: true})
	mp := sdkmetric.NewMeterProvider()
	defer mp.Shutdown(t.Context())
	if _, err := eventlogotel.Register(nil, mp); err == nil {
		t.Error("Register(nil Log): nil error")
	}
	if _, err := eventlogotel.Register(l, nil); err == nil {
		t.Error("Register(nil MeterProvider): nil error")
	}
}

// Collections run while producers append; -race checks the callback, and
// the counters never go backwards.
func TestCollectWhileProducing(t *testing.T) {
	l := open(t, t.TempDir(), &eventlog.Options{Sync: eventlog.SyncNever})
	if _, err := l.CreateTopic("t", eventlog.TopicConfig{Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	r, _ := register(t, l, eventlogotel.WithoutPartitionAttribute())
	p, err := l.NewProducer(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for range 250 {
				if _, err := p.Produce(t.Context(), eventlog.Record{Topic: "t", Value: []byte("v")}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var prev float64
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		ms := collect(t, r)
		if m, ok := ms["eventlog.append.records"]; ok {
			if got := m.points["topic=t"]; got < prev {
				t.Fatalf("append.records went from %v to %v", prev, got)
			} else {
				prev = got
			}
		}
	}
	close(errs)
	for err := range errs {
		t.Fatalf("Produce: %v", err)
	}
	if got := value(t, collect(t, r), "eventlog.append.records", "topic=t"); got != 1000 {
		t.Errorf("append.records{t} = %v; want 1000", got)
	}
}
