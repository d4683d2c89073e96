package eventlog

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)

// ProducerOptions configures a Producer. A nil *ProducerOptions and the
// zero value mean "all defaults"; each field says what its zero value does.
type ProducerOptions struct {
	// Partitioner chooses each record's partition. Nil means Kafka's
	// default: a keyed record goes to murmur2(key) mod partitions, the
	// partition a Kafka client would choose; unkeyed records go to one
	// partition in sticky batches of about 16 KiB, then to the next. Use
	// ManualPartitioner to set Record.Partition yourself.
	Partitioner Partitioner

	// MaxBufferedBytes bounds the encoded bytes of records the Producer has
	// accepted but not yet had acknowledged. A producer that outruns the
	// disk blocks in Produce (until its ctx ends) and in ProduceAsync
	// instead of queueing without limit. Zero means 32 MiB.
	MaxBufferedBytes int64
}

// Producer appends records to a Log's topics. It batches the records of
// each partition: records given to it while the partition's previous batch
// is being written go together in the next batch, written with one fsync.
// The records one Producer sends to one partition are appended in the order
// of the calls that sent them, whether through Produce or ProduceAsync.
//
// A Producer is safe for concurrent use; many goroutines calling Produce on
// one Producer is the intended way to reach high durable throughput.
// Close it when done.
type Producer struct {
	log    *Log
	part   Partitioner // nil: def
	def    defaultPartitioner
	sem    *semaphore.Weighted
	maxBuf int64

	ctx    context.Context // canceled by Close: ends waits for buffer space
	cancel context.CancelFunc

	mu      sync.Mutex // guards queues and closed
	queues  map[*Partition]*produceQueue
	closed  bool
	flushed notifier       // broadcast after each batch is answered
	bg      errgroup.Group // drain goroutines; started only under mu while !closed

	closeOnce sync.Once
}

// produceQueue holds the records of one partition waiting to be written.
// Its fields are guarded by Producer.mu.
type produceQueue struct {
	p         *Partition
	pending   []pending
	running   bool  // a drain goroutine owns this queue
	enqueued  int64 // records ever queued
	completed int64 // records ever answered
}

type pending struct {
	rec  Record
	cb   func(Record, error)
	size int64 // buffer bytes held until cb has run
}

// maxDrainRecords bounds one batch a drain hands to its partition.
const maxDrainRecords = 8192

// NewProducer returns a Producer of records to l's topics. A nil opts
// means defaults.
func (l *Log) NewProducer(opts *ProducerOptions) (*Producer, error) {
	var o ProducerOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxBufferedBytes < 0 {
		return nil, fmt.Errorf("negative MaxBufferedBytes %d: %w", o.MaxBufferedBytes, ErrInvalidConfig)
	}
	if o.MaxBufferedBytes == 0 {
		o.MaxBufferedBytes = 32 << 20
	}
	if l.isClosed() {
		return nil, ErrClosed
	}
	ctx, cancel := context.WithCancel(l.ctx)
	return &Producer{
		log:    l,
		part:   o.Partitioner,
		sem:    semaphore.NewWeighted(o.MaxBufferedBytes),
		maxBuf: o.MaxBufferedBytes,
		ctx:    ctx,
		cancel: cancel,
		queues: make(map[*Partition]*produceQueue),
	}, nil
}

// Produce appends r to its topic and returns it with Partition, Offset and
// Time filled in, once it is durable under Options.Sync: with the default
// SyncAlways, once it is fsynced. Many goroutines calling Produce at once
// share fsyncs, so durable throughput grows with them.
//
// The error wraps ErrUnknownTopic, ErrInvalidName (an internal "__"
// topic), ErrRecordTooLarge, ErrUnknownPartition,
// ErrFenced, ErrNoSpace or ErrClosed, or is ctx.Err(). If ctx ends while the
// record waits for buffer space, nothing is written; if it ends after the
// record was accepted, Produce returns ctx.Err() but the record may still
// be appended.
func (pr *Producer) Produce(ctx context.Context, r Record) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err // nothing is written for a ctx that has already ended
	}
	p, size, err := pr.route(&r)
	if err != nil {
		return Record{}, err
	}
	if err := pr.acquire(ctx, size); err != nil {
		return Record{}, err
	}
	type result struct {
		rec Record
		err error
	}
	res := make(chan result, 1)
	pr.enqueue(p, pending{rec: r, size: size, cb: func(rec Record, err error) { res <- result{rec, err} }})
	select {
	case x := <-res:
		return x.rec, x.err
	case <-ctx.Done():
		return Record{}, ctx.Err()
	}
}

// ProduceAsync appends r without waiting and calls cb exactly once with
// the outcome: r with Partition, Offset and Time filled in and a nil error
// once it is durable under Options.Sync, or the error Produce would have
// returned. cb may be nil.
//
// Callbacks for one partition run in offset order, one at a time, on a
// goroutine of the Producer; they should be quick and must not wait for
// later records of the same Producer (Flush, Close, or Produce to the same
// partition), which would deadlock. A record refused at once (unknown
// topic, too large, closed Producer) has cb called before ProduceAsync
// returns.
//
// ProduceAsync keeps r's Key, Value and Headers until cb runs: do not
// modify them before. When MaxBufferedBytes are in flight it blocks until
// there is room, or until the Producer is closed.
func (pr *Producer) ProduceAsync(r Record, cb func(Record, error)) {
	if cb == nil {
		cb = func(Record, error) {}
	}
	p, size, err := pr.route(&r)
	if err != nil {
		cb(r, err)
		return
	}
	if err := pr.acquire(pr.ctx, size); err != nil {
		cb(r, err)
		return
	}
	pr.enqueue(p, pending{rec: r, size: size, cb: cb})
}

// route validates r and picks its partition; it returns the buffer bytes
// the record will hold.
func (pr *Producer) route(r *Record) (*Partition, int64, error) {
	if pr.ctx.Err() != nil {
		return nil, 0, ErrClosed
	}
	t, ok := (*pr.log.topics.Load())[r.Topic]
	if !ok {
		return nil, 0, fmt.Errorf("produce to topic %q: %w", r.Topic, ErrUnknownTopic)
	}
	if isReserved(r.Topic) {
		return nil, 0, fmt.Errorf("produce to internal topic %q: %w", r.Topic, ErrInvalidName)
	}
	size := encodedSize(r)
	if limit := pr.log.opts.MaxRecordSize; size > limit {
		return nil, 0, fmt.Errorf("record of %d bytes for topic %q (limit %d): %w", size, r.Topic, limit, ErrRecordTooLarge)
	}
	n := len(t.parts)
	var i int
	if pr.part != nil {
		i = pr.part.Partition(*r, n)
	} else {
		i = pr.def.partition(r, n, size)
	}
	if i < 0 || i >= n {
		return nil, 0, fmt.Errorf("partitioner chose partition %d of topic %q with %d: %w", i, r.Topic, n, ErrUnknownPartition)
	}
	return t.parts[i], min(int64(size), pr.maxBuf), nil
}

// acquire takes n bytes of buffer space, waiting until ctx ends or the
// Producer closes.
func (pr *Producer) acquire(ctx context.Context, n int64) error {
	if pr.sem.TryAcquire(n) {
		return nil
	}
	if ctx != pr.ctx {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(pr.ctx, cancel)()
	}
	if err := pr.sem.Acquire(ctx, n); err != nil {
		if pr.ctx.Err() != nil {
			return ErrClosed
		}
		return err
	}
	return nil
}

// enqueue queues one accepted record and makes sure a drain goroutine
// will write it.
func (pr *Producer) enqueue(p *Partition, x pending) {
	pr.mu.Lock()
	if pr.closed {
		pr.mu.Unlock()
		pr.sem.Release(x.size)
		x.cb(x.rec, ErrClosed)
		return
	}
	q := pr.queues[p]
	if q == nil {
		q = &produceQueue{p: p}
		pr.queues[p] = q
	}
	q.pending = append(q.pending, x)
	q.enqueued++
	if !q.running {
		q.running = true
		pr.bg.Go(func() error { pr.drain(q); return nil })
	}
	pr.mu.Unlock()
}

// drain writes q's records one batch at a time until q is empty. Records
// that arrive while a batch is being written form the next batch.
func (pr *Producer) drain(q *produceQueue) {
	var (
		batch   []pending
		recs    []Record
		release int64
		req     = &appendReq{done: make(chan error, 1)}
	)
	for {
		pr.mu.Lock()
		if len(q.pending) == 0 {
			q.running = false
			pr.mu.Unlock()
			return
		}
		if len(q.pending) <= maxDrainRecords {
			batch, q.pending = q.pending, batch[:0]
		} else {
			batch = append(batch[:0], q.pending[:maxDrainRecords]...)
			q.pending = append(q.pending[:0], q.pending[maxDrainRecords:]...)
		}
		pr.mu.Unlock()

		recs, release = recs[:0], 0
		for i := range batch {
			recs = append(recs, batch[i].rec)
			release += batch[i].size
		}
		req.recs = recs
		err := q.p.append(context.Background(), req)
		for i := range batch {
			batch[i].cb(recs[i], err)
		}
		pr.sem.Release(release)
		clear(batch) // drop callbacks and records so they can be collected
		clear(recs)

		pr.mu.Lock()
		q.completed += int64(len(batch))
		pr.mu.Unlock()
		pr.flushed.broadcast()
		if len(batch) > 1 {
			// The callers just answered are likely to send again at once.
			// Letting them run before taking the next batch puts them in it,
			// instead of starting a write (and an fsync) for the first one
			// alone while the rest wait for the one after.
			runtime.Gosched()
		}
	}
}

// Flush waits until every record given to the Producer before the call
// has been answered (its Produce returned or its callback ran). It returns
// ctx.Err() if ctx ends first, and ErrClosed after Close.
func (pr *Producer) Flush(ctx context.Context) error {
	pr.mu.Lock()
	closed := pr.closed
	pr.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return pr.flush(ctx)
}

func (pr *Producer) flush(ctx context.Context) error {
	type target struct {
		q *produceQueue
		n int64
	}
	var targets []target
	pr.mu.Lock()
	for _, q := range pr.queues {
		if q.completed < q.enqueued {
			targets = append(targets, target{q, q.enqueued})
		}
	}
	pr.mu.Unlock()
	for {
		wake := pr.flushed.wait() // before checking, so no broadcast is missed
		pr.mu.Lock()
		for len(targets) > 0 && targets[0].q.completed >= targets[0].n {
			targets = targets[1:]
		}
		pr.mu.Unlock()
		if len(targets) == 0 {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close flushes every record already accepted, waits for their answers,
// and then refuses new records with ErrClosed. Produce and ProduceAsync
// calls still waiting for buffer space fail with ErrClosed. Closing the
// Log first makes pending records fail with ErrClosed instead of being
// written. The first Close returns nil; later calls return ErrClosed.
func (pr *Producer) Close() error {
	err := ErrClosed
	pr.closeOnce.Do(func() {
		pr.mu.Lock()
		pr.closed = true
		pr.mu.Unlock()
		pr.cancel()
		err = errors.Join(pr.flush(context.Background()), pr.bg.Wait())
	})
	return err
}
