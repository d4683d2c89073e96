// Package eventlogotel reports the metrics of an eventlog.Log to
// OpenTelemetry (go.opentelemetry.io/otel/metric).
//
// It is a module of its own, so that a program using package eventlog alone
// depends on no OpenTelemetry module. Register a Log with a MeterProvider
// once, after Open:
//
//	reg, err := eventlogotel.Register(l, provider)
//	if err != nil {
//		return err
//	}
//	defer reg.Unregister()
//
// Every instrument is asynchronous: at each collection (a Prometheus
// scrape, a PeriodicReader's tick) one callback takes one Log.Stats
// snapshot and observes every instrument from it, so the values of one
// collection come from one snapshot and the Log's hot path does no work
// for metrics beyond the counters it keeps anyway.
//
// # Metrics
//
// Per partition, with attributes topic and partition:
//
//	name                               instrument     unit         what
//	eventlog.append.records            Counter        {record}     records appended (durable under Options.Sync)
//	eventlog.append.bytes              Counter        By           their payload: keys, values, headers
//	eventlog.append.batches            Counter        {batch}      group commits the records were written in
//	eventlog.append.batch.max          Gauge          {record}     records in the largest batch
//	eventlog.fsyncs                    Counter        {fsync}      fsyncs run for appends
//	eventlog.fsync.time                Counter        s            time spent in those fsyncs
//	eventlog.fsync.time.max            Gauge          s            the longest of them
//	eventlog.read.records              Counter        {record}     records fetched for Read, Tail and Poll
//	eventlog.read.batches              Counter        {batch}      fetches from storage
//	eventlog.segments                  UpDownCounter  {segment}    segment files holding records now
//	eventlog.segment.bytes             UpDownCounter  By           their size
//	eventlog.partition.first_offset    Gauge          {offset}     Partition.FirstOffset
//	eventlog.partition.next_offset     Gauge          {offset}     Partition.NextOffset (the high watermark)
//
// Per consumer group, with attributes group, topic and partition:
//
//	eventlog.group.lag                 UpDownCounter  {record}     records the group has yet to process
//
// For the whole Log, without attributes; not reported for an InMemory Log,
// which has no memory budget:
//
//	eventlog.memory.usage              UpDownCounter  By           tidwall/wal memory held now
//	eventlog.memory.limit              UpDownCounter  By           Options.MaxResidentBytes
//	eventlog.memory.loaded_partitions  UpDownCounter  {partition}  partitions with their storage loaded
//	eventlog.memory.releases           Counter        {release}    unloads to stay within the limit
//
// The Prometheus exporter turns the names into eventlog_append_records_total,
// eventlog_append_bytes_total, eventlog_fsync_time_seconds_total,
// eventlog_segment_bytes, eventlog_group_lag and so on.
//
// Counters, and the maxima, are since the Log was opened: they start again
// at zero when a data directory is reopened, which OpenTelemetry backends
// and Prometheus's rate() treat as a counter reset.
//
// OpenTelemetry has no asynchronous histogram, and the Log keeps no
// distribution of fsync latency, only its total and maximum; the mean
// fsync latency over an interval is the increase of eventlog.fsync.time
// divided by that of eventlog.fsyncs (in PromQL,
// rate(eventlog_fsync_time_seconds_total[1m]) /
// rate(eventlog_fsyncs_total[1m])), and likewise the mean batch size from
// eventlog.append.records and eventlog.append.batches.
//
// Additive values (segments, bytes, memory, lag) are UpDownCounters rather
// than Gauges, so that a View or a backend that drops an attribute sums
// them correctly; Prometheus shows both as gauges.
//
// # Attributes and cardinality
//
// By default every partition is a series of its own, so a Log with many
// topics and partitions makes many series. WithoutPartitionAttribute sums
// each topic's partitions (and each group's lag per topic) into one series
// and leaves out eventlog.partition.first_offset and next_offset, which
// mean nothing summed; the maxima become the largest of any partition.
//
// The partitions of the internal __consumer_offsets topic are reported like
// any other, under topic="__consumer_offsets": their appends are the
// groups' commits, and their fsyncs, segments and bytes are real disk work
// and disk space, so totals over all topics match the Log's. Select
// topic!="__consumer_offsets" to see only the topics of the application.
//
// Two Logs registered with one MeterProvider report under the same
// attributes; tell them apart with WithAttributes.
//
// # Closing
//
// After the Log is closed, Log.Stats returns the zero Stats and the
// callback observes nothing, so the Log's series end; it is still best to
// call Registration.Unregister before Log.Close, and to take a last
// collection first if the final values matter.
package eventlogotel
