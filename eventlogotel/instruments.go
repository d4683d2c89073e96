package eventlogotel

import (
	"errors"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/eventlog/eventlog"
)

// instruments are the asynchronous instruments Register creates; the
// package documentation lists them.
type instruments struct {
	appendRecords, appendBytes, appendBatches metric.Int64ObservableCounter
	batchMax                                  metric.Int64ObservableGauge
	fsyncs                                    metric.Int64ObservableCounter
	fsyncTime                                 metric.Float64ObservableCounter
	fsyncTimeMax                              metric.Float64ObservableGauge
	readRecords, readBatches                  metric.Int64ObservableCounter
	segments, segmentBytes                    metric.Int64ObservableUpDownCounter
	firstOffset, nextOffset                   metric.Int64ObservableGauge // nil without partitions
	groupLag                                  metric.Int64ObservableUpDownCounter
	memUsage, memLimit, memLoaded             metric.Int64ObservableUpDownCounter
	memReleases                               metric.Int64ObservableCounter

	all []metric.Observable // every one above, for RegisterCallback
}

// newInstruments creates the instruments on m, the offsets only if
// perPartition.
func newInstruments(m metric.Meter, perPartition bool) (*instruments, error) {
	in := &instruments{}
	var errs []error
	// keep records an instrument's creation, so that the code below lists
	// each instrument in one line.
	keep := func(obs metric.Observable, err error) {
		errs = append(errs, err)
		if err == nil {
			in.all = append(in.all, obs)
		}
	}
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		c, err := m.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		keep(c, err)
		return c
	}
	upDown := func(name, unit, desc string) metric.Int64ObservableUpDownCounter {
		c, err := m.Int64ObservableUpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		keep(c, err)
		return c
	}
	gauge := func(name, unit, desc string) metric.Int64ObservableGauge {
		g, err := m.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		keep(g, err)
		return g
	}

	in.appendRecords = counter("eventlog.append.records", "{record}", "Records appended since the Log was opened.")
	in.appendBytes = counter("eventlog.append.bytes", "By", "Payload (keys, values, headers) of the records appended.")
	in.appendBatches = counter("eventlog.append.batches", "{batch}", "Batches (group commits) the appended records were written in.")
	in.batchMax = gauge("eventlog.append.batch.max", "{record}", "Records in the largest append batch since the Log was opened.")
	in.fsyncs = counter("eventlog.fsyncs", "{fsync}", "Fsyncs run for appends.")
	var err error
	in.fsyncTime, err = m.Float64ObservableCounter("eventlog.fsync.time", metric.WithUnit("s"),
		metric.WithDescription("Total time spent in fsyncs for appends."))
	keep(in.fsyncTime, err)
	in.fsyncTimeMax, err = m.Float64ObservableGauge("eventlog.fsync.time.max", metric.WithUnit("s"),
		metric.WithDescription("The longest fsync for appends since the Log was opened."))
	keep(in.fsyncTimeMax, err)
	in.readRecords = counter("eventlog.read.records", "{record}", "Records fetched from storage for Read, Tail and Poll.")
	in.readBatches = counter("eventlog.read.batches", "{batch}", "Fetches from storage for Read, Tail and Poll.")
	in.segments = upDown("eventlog.segments", "{segment}", "Segment files holding records.")
	in.segmentBytes = upDown("eventlog.segment.bytes", "By", "Size of the segment files holding records.")
	if perPartition {
		in.firstOffset = gauge("eventlog.partition.first_offset", "{offset}", "The partition's first offset still stored.")
		in.nextOffset = gauge("eventlog.partition.next_offset", "{offset}", "The offset the partition's next record gets (its high watermark).")
	}
	in.groupLag = upDown("eventlog.group.lag", "{record}", "Records a consumer group has yet to process.")
	in.memUsage = upDown("eventlog.memory.usage", "By", "Memory tidwall/wal holds for the Log's partitions.")
	in.memLimit = upDown("eventlog.memory.limit", "By", "The Log's Options.MaxResidentBytes.")
	in.memLoaded = upDown("eventlog.memory.loaded_partitions", "{partition}", "Partitions holding their storage loaded.")
	in.memReleases = counter("eventlog.memory.releases", "{release}", "Times a partition's storage was unloaded to stay within MaxResidentBytes.")
	return in, errors.Join(errs...)
}

// observe observes every instrument from the snapshot s.
func (in *instruments) observe(o metric.Observer, s eventlog.Stats, cfg config) {
	if cfg.perPartition {
		for _, ps := range s.Partitions {
			attrs := metric.WithAttributeSet(attrSet(cfg.attrs,
				TopicKey.String(ps.Topic), PartitionKey.Int(ps.Partition)))
			in.observeIO(o, ps.IOStats, attrs)
			o.ObserveInt64(in.firstOffset, ps.FirstOffset, attrs)
			o.ObserveInt64(in.nextOffset, ps.NextOffset, attrs)
		}
		for _, g := range s.Groups {
			for _, pl := range g.Lag {
				o.ObserveInt64(in.groupLag, pl.Lag, metric.WithAttributeSet(attrSet(cfg.attrs,
					GroupKey.String(g.Name), TopicKey.String(pl.Topic), PartitionKey.Int(pl.Partition))))
			}
		}
	} else {
		// Stats sorts partitions and lags by topic: sum each run of one topic.
		for i := 0; i < len(s.Partitions); {
			topic := s.Partitions[i].Topic
			var sum eventlog.IOStats
			for ; i < len(s.Partitions) && s.Partitions[i].Topic == topic; i++ {
				sum = addIO(sum, s.Partitions[i].IOStats)
			}
			in.observeIO(o, sum, metric.WithAttributeSet(attrSet(cfg.attrs, TopicKey.String(topic))))
		}
		for _, g := range s.Groups {
			for i := 0; i < len(g.Lag); {
				topic := g.Lag[i].Topic
				var lag int64
				for ; i < len(g.Lag) && g.Lag[i].Topic == topic; i++ {
					lag += g.Lag[i].Lag
				}
				o.ObserveInt64(in.groupLag, lag, metric.WithAttributeSet(attrSet(cfg.attrs,
					GroupKey.String(g.Name), TopicKey.String(topic))))
			}
		}
	}
	// The zero MemoryStats is an InMemory Log, or a closed one: nothing to say.
	if m := s.Memory; m.MaxResidentBytes > 0 {
		attrs := metric.WithAttributeSet(attribute.NewSet(cfg.attrs...))
		o.ObserveInt64(in.memUsage, m.ResidentBytes, attrs)
		o.ObserveInt64(in.memLimit, m.MaxResidentBytes, attrs)
		o.ObserveInt64(in.memLoaded, int64(m.LoadedPartitions), attrs)
		o.ObserveInt64(in.memReleases, m.Releases, attrs)
	}
}

// observeIO observes the instruments that IOStats feeds.
func (in *instruments) observeIO(o metric.Observer, s eventlog.IOStats, attrs metric.ObserveOption) {
	o.ObserveInt64(in.appendRecords, s.AppendedRecords, attrs)
	o.ObserveInt64(in.appendBytes, s.AppendedBytes, attrs)
	o.ObserveInt64(in.appendBatches, s.AppendBatches, attrs)
	o.ObserveInt64(in.batchMax, s.MaxBatchRecords, attrs)
	o.ObserveInt64(in.fsyncs, s.Fsyncs, attrs)
	o.ObserveFloat64(in.fsyncTime, s.FsyncTime.Seconds(), attrs)
	o.ObserveFloat64(in.fsyncTimeMax, s.MaxFsyncTime.Seconds(), attrs)
	o.ObserveInt64(in.readRecords, s.ReadRecords, attrs)
	o.ObserveInt64(in.readBatches, s.ReadBatches, attrs)
	o.ObserveInt64(in.segments, int64(s.Segments), attrs)
	o.ObserveInt64(in.segmentBytes, s.SegmentBytes, attrs)
}

// addIO returns a+b, with the larger of their maxima.
func addIO(a, b eventlog.IOStats) eventlog.IOStats {
	return eventlog.IOStats{
		AppendedRecords: a.AppendedRecords + b.AppendedRecords,
		AppendedBytes:   a.AppendedBytes + b.AppendedBytes,
		AppendBatches:   a.AppendBatches + b.AppendBatches,
		MaxBatchRecords: max(a.MaxBatchRecords, b.MaxBatchRecords),
		Fsyncs:          a.Fsyncs + b.Fsyncs,
		FsyncTime:       a.FsyncTime + b.FsyncTime,
		MaxFsyncTime:    max(a.MaxFsyncTime, b.MaxFsyncTime),
		ReadRecords:     a.ReadRecords + b.ReadRecords,
		ReadBatches:     a.ReadBatches + b.ReadBatches,
		Segments:        a.Segments + b.Segments,
		SegmentBytes:    a.SegmentBytes + b.SegmentBytes,
	}
}

// attrSet returns the set of base (from WithAttributes) and kvs; where a
// key is in both, kvs wins.
func attrSet(base []attribute.KeyValue, kvs ...attribute.KeyValue) attribute.Set {
	return attribute.NewSet(append(slices.Clip(base), kvs...)...)
}
