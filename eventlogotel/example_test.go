package eventlogotel_test

import (
	"context"
	"fmt"
	"log"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/eventlog/eventlog"
	"github.com/eventlog/eventlog/eventlogotel"
)

// Register a Log with a MeterProvider, here one with a ManualReader that
// collects on demand; a program would use a Prometheus or OTLP exporter
// instead (see the example directory).
func ExampleRegister() {
	ctx := context.Background()
	l, err := eventlog.Open("", &eventlog.Options{InMemory: true})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(ctx)
	reg, err := eventlogotel.Register(l, provider)
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Unregister() // before l.Close, which runs later

	if _, err := l.CreateTopic("orders", eventlog.TopicConfig{}); err != nil {
		log.Fatal(err)
	}
	p, err := l.NewProducer(nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range []string{"created", "paid", "shipped"} {
		if _, err := p.Produce(ctx, eventlog.Record{Topic: "orders", Value: []byte(v)}); err != nil {
			log.Fatal(err)
		}
	}
	p.Close()

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch m.Name {
			case "eventlog.append.records", "eventlog.append.bytes":
				for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
					fmt.Printf("%s{%s} = %d %s\n", m.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value, m.Unit)
				}
			case "eventlog.partition.next_offset":
				for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
					fmt.Printf("%s{%s} = %d %s\n", m.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value, m.Unit)
				}
			}
		}
	}
	// Unordered output:
	// eventlog.append.records{partition=0,topic=orders} = 3 {record}
	// eventlog.append.bytes{partition=0,topic=orders} = 18 By
	// eventlog.partition.next_offset{partition=0,topic=orders} = 3 {offset}
}
