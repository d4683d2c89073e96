// Command example runs an eventlog.Log with a producer and a consumer group
// and exports the Log's metrics for Prometheus to scrape, through
// eventlogotel and the OpenTelemetry Prometheus exporter.
//
// It is a module of its own, so the exporter's dependencies stay out of
// eventlogotel's go.mod. From this directory:
//
//	go run .                  # serves http://127.0.0.1:9464/metrics until Ctrl-C
//	go run . -duration 2s     # runs 2s, prints the eventlog metrics once, exits
//
// The Log lives in a new temporary directory, removed at exit.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"golang.org/x/sync/errgroup"

	"github.com/eventlog/eventlog"
	"github.com/eventlog/eventlog/eventlogotel"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9464", "`address` to serve /metrics on (port 0 picks a free one)")
	duration := flag.Duration("duration", 0, "run this long, print the metrics once and exit (0: until interrupted)")
	flag.Parse()
	log.SetFlags(0)
	if err := run(*addr, *duration); err != nil {
		log.Fatalf("example: %v", err)
	}
}

func run(addr string, duration time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}

	dir, err := os.MkdirTemp("", "eventlogotel-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	l, err := eventlog.Open(dir, nil)
	if err != nil {
		return err
	}
	defer l.Close()
	if _, err := l.CreateTopic("orders", eventlog.TopicConfig{Partitions: 4}); err != nil {
		return err
	}

	// The OpenTelemetry side: a Prometheus exporter is a Reader of a
	// MeterProvider, registered with its own Prometheus registry. Without
	// scope info, the series carry only eventlog's attributes as labels.
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry), otelprom.WithoutScopeInfo())
	if err != nil {
		return err
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer provider.Shutdown(context.Background())
	reg, err := eventlogotel.Register(l, provider)
	if err != nil {
		return err
	}
	defer reg.Unregister() // deferred after l.Close, so it runs before it

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String() + "/metrics"
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(os.Stderr, "serving %s\n", url)

	var servers errgroup.Group
	servers.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	work, wctx := errgroup.WithContext(ctx)
	work.Go(func() error { return produce(wctx, l) })
	work.Go(func() error { return consume(wctx, l) })
	err = work.Wait()
	if err == nil && duration > 0 {
		err = printMetrics(os.Stdout, url)
	}
	srv.Close()
	return errors.Join(err, servers.Wait())
}

// produce appends orders to the Log, a few a millisecond, until ctx ends.
func produce(ctx context.Context, l *eventlog.Log) error {
	p, err := l.NewProducer(nil)
	if err != nil {
		return err
	}
	defer p.Close()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		rec := eventlog.Record{
			Topic: "orders",
			Key:   fmt.Appendf(nil, "customer-%d", i%50),
			Value: fmt.Appendf(nil, `{"order":%d}`, i),
		}
		if _, err := p.Produce(ctx, rec); err != nil && ctx.Err() == nil {
			return fmt.Errorf("produce: %w", err)
		}
	}
}

// consume reads the orders as the only member of group "billing",
// committing each batch and then pausing a little, so that the group lags
// behind the producer by some records.
func consume(ctx context.Context, l *eventlog.Log) error {
	g, err := l.ConsumerGroup("billing", &eventlog.GroupOptions{Topics: []string{"orders"}})
	if err != nil {
		return err
	}
	c, err := g.Join(ctx)
	if err != nil {
		return ignoreDone(ctx, err)
	}
	defer c.Close()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		recs, err := c.Poll(ctx)
		if err != nil {
			return ignoreDone(ctx, fmt.Errorf("poll: %w", err))
		}
		if err := c.Commit(ctx, recs...); err != nil {
			return ignoreDone(ctx, fmt.Errorf("commit: %w", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// ignoreDone returns nil if ctx has ended (err is then its consequence),
// else err.
func ignoreDone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// printMetrics scrapes url as Prometheus would and writes the eventlog
// metrics to w.
func printMetrics(w io.Writer, url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return fmt.Errorf("scraping %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("scraping %s: %s", url, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.Contains(line, "eventlog_") {
			fmt.Fprintln(w, line)
		}
	}
	return sc.Err()
}
