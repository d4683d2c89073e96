package eventlog

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

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

	// MaxBufferedBytes bounds the memory of records the Producer has
	// accepted but not yet had acknowledged: each counts its encoded size
	// plus the Producer's bookkeeping for it (about 270 bytes, which is
	// most of it for small records). A producer that outruns the disk
	// blocks in Produce (until its ctx ends) and in ProduceAsync instead of
	// queueing without limit. Zero means 8 MiB, which keeps a partition's
	// writes busy with room to spare (a batch is at most 1 MiB encoded).
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

	mu      sync.Mutex // guards queues, free and closed
	queues  map[*Partition]*produceQueue
	free    [][]pending // emptied full-size queue chunks, for reuse
	closed  bool
	flushed notifier       // broadcast after each batch is answered
	bg      errgroup.Group // drain goroutines; started only under mu while !closed

	// directReqs recycles produceDirect's requests. It belongs to the
	// Producer, not the package, so a channel made inside a
	// testing/synctest bubble is never used outside it.
	directReqs sync.Pool

	closeOnce sync.Once
}

// produceQueue holds the records of one partition waiting to be written.
// Its fields are guarded by Producer.mu.
//
// The records are kept in chunks rather than one slice: a queue that grows
// to MaxBufferedBytes (a quarter of a million small records) then never
// copies what it holds to grow, and emptied chunks are reused instead of
// touching fresh memory.
type produceQueue struct {
	p         *Partition
	chunks    [][]pending // waiting records in order; only the last chunk has room
	running   bool        // a drain goroutine owns this queue
	enqueued  int64       // records ever queued
	completed int64       // records ever answered
}

type pending struct {
	rec  Record
	cb   func(Record, error)
	size int64 // buffer bytes held until cb has run
}

// pendingOverhead is what a queued record costs beyond its encoded bytes:
// its place in the queue, and its copy in the batch handed to the commit
// loop. MaxBufferedBytes counts it.
const pendingOverhead = int64(unsafe.Sizeof(pending{}) + unsafe.Sizeof(Record{}))

const (
	// chunkRecords is the capacity of a full-size queue chunk. A queue's
	// first chunk is smaller (firstChunkRecords), so a partition that gets
	// a record now and then holds little.
	chunkRecords      = 1024
	firstChunkRecords = 32
	// maxFreeChunks bounds the emptied chunks a Producer keeps for reuse.
	maxFreeChunks = 16
	// maxDrainRecords and maxDrainBytes bound one batch a drain hands to
	// its partition.
	maxDrainRecords = 4 * chunkRecords
	maxDrainBytes   = 512 << 10
)

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
		o.MaxBufferedBytes = 8 << 20
	}
	if l.isClosed() {
		return nil, ErrClosed
	}
	ctx, cancel := context.WithCancel(l.ctx)
	return &Producer{
		log:        l,
		part:       o.Partitioner,
		sem:        semaphore.NewWeighted(o.MaxBufferedBytes),
		maxBuf:     o.MaxBufferedBytes,
		ctx:        ctx,
		cancel:     cancel,
		queues:     make(map[*Partition]*produceQueue),
		directReqs: sync.Pool{New: newDirectReq},
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
	if rec, ok, err := pr.produceDirect(ctx, p, r, size); ok {
		return rec, err
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
	return t.parts[i], min(int64(size)+pendingOverhead, pr.maxBuf), nil
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
	q := pr.queue(p)
	pr.push(q, x)
	q.enqueued++
	if !q.running {
		q.running = true
		pr.bg.Go(func() error { pr.drain(q); return nil })
	}
	pr.mu.Unlock()
}

// queue returns p's queue, creating it. The caller holds pr.mu.
func (pr *Producer) queue(p *Partition) *produceQueue {
	q := pr.queues[p]
	if q == nil {
		q = &produceQueue{p: p}
		pr.queues[p] = q
	}
	return q
}

// produceDirect hands r to p's commit loop from the calling goroutine when
// no record given to ProduceAsync is queued for or being written to p,
// which saves Produce the hand-off to a drain goroutine. Concurrent
// Produce calls each hand over their own record, and the commit loop
// gathers them into one write and one fsync. It reports false, having
// done nothing, when records are queued: r must then follow them, and
// Produce queues it.
func (pr *Producer) produceDirect(ctx context.Context, p *Partition, r Record, size int64) (rec Record, ok bool, err error) {
	pr.mu.Lock()
	if pr.closed {
		pr.mu.Unlock()
		return Record{}, false, nil
	}
	q := pr.queue(p)
	if q.running || len(q.chunks) > 0 {
		pr.mu.Unlock()
		return Record{}, false, nil
	}
	q.enqueued++
	pr.mu.Unlock()

	req := pr.directReqs.Get().(*appendReq)
	req.recs = append(req.recs[:0], r)
	if err := p.handOff(ctx, req); err != nil {
		pr.finishDirect(q, size, req)
		return Record{}, true, err
	}
	select {
	case err := <-req.done:
		rec := req.recs[0]
		pr.finishDirect(q, size, req)
		return rec, true, err
	case <-ctx.Done():
		// The commit loop owns req now and will answer; the record may
		// still be written. Finish the bookkeeping when it does.
		pr.bg.Go(func() error {
			<-req.done
			pr.finishDirect(q, size, req)
			return nil
		})
		return Record{}, true, ctx.Err()
	}
}

// newDirectReq makes a request for produceDirect, with room for one record.
func newDirectReq() any {
	return &appendReq{recs: make([]Record, 0, 1), done: make(chan error, 1)}
}

// finishDirect ends a produceDirect: it recycles req and releases the
// record's buffer space.
func (pr *Producer) finishDirect(q *produceQueue, size int64, req *appendReq) {
	clear(req.recs)
	pr.directReqs.Put(req)
	pr.sem.Release(size)
	pr.mu.Lock()
	q.completed++
	pr.mu.Unlock()
	pr.flushed.broadcast()
}

// push appends x to q. The caller holds pr.mu.
func (pr *Producer) push(q *produceQueue, x pending) {
	n := len(q.chunks)
	if n == 0 || len(q.chunks[n-1]) == cap(q.chunks[n-1]) {
		q.chunks = append(q.chunks, pr.newChunk(n == 0))
		n++
	}
	q.chunks[n-1] = append(q.chunks[n-1], x)
}

// newChunk returns an empty chunk: a reused one if there is one, else a
// new one, small if it is to be the first of its queue. The caller holds
// pr.mu.
func (pr *Producer) newChunk(first bool) []pending {
	if n := len(pr.free); n > 0 {
		c := pr.free[n-1]
		pr.free[n-1] = nil
		pr.free = pr.free[:n-1]
		return c
	}
	if first {
		return make([]pending, 0, firstChunkRecords)
	}
	return make([]pending, 0, chunkRecords)
}

// drain writes q's records until q is empty. It takes every chunk queued
// at once and writes them in batches (see nextBatch); records that arrive
// meanwhile are taken next time round.
func (pr *Producer) drain(q *produceQueue) {
	var (
		taken [][]pending
		recs  []Record
		req   = &appendReq{done: make(chan error, 1)}
	)
	for {
		pr.mu.Lock()
		if len(q.chunks) == 0 {
			q.running = false
			pr.mu.Unlock()
			return
		}
		taken, q.chunks = q.chunks, taken[:0]
		pr.mu.Unlock()

		answered := 0
		for pos := (queuePos{}); pos.chunk < len(taken); {
			var release int64
			from := pos
			recs, release, pos = nextBatch(taken, pos, recs[:0])
			pr.writeBatch(q, req, taken, from, recs, release)
			answered += len(recs)
		}
		clear(taken)
		if answered > 1 {
			// The callers just answered are likely to send again at once.
			// Letting them run before taking the next batch puts them in it,
			// instead of starting a write (and an fsync) for the first one
			// alone while the rest wait for the one after.
			runtime.Gosched()
		}
	}
}

// queuePos is a record's place in a drain's chunks.
type queuePos struct{ chunk, i int }

// nextBatch appends to recs the records of chunks from pos on, up to
// maxDrainRecords of them and about maxDrainBytes encoded (at least one
// record), and returns them with the buffer space they hold and the
// position after them. The byte bound keeps the memory a write encodes
// into small: many partitions may be writing at once.
func nextBatch(chunks [][]pending, pos queuePos, recs []Record) ([]Record, int64, queuePos) {
	var bytes, release int64
	for pos.chunk < len(chunks) && len(recs) < maxDrainRecords && (len(recs) == 0 || bytes < maxDrainBytes) {
		x := &chunks[pos.chunk][pos.i]
		recs = append(recs, x.rec)
		release += x.size
		bytes += x.size - pendingOverhead
		if pos.i++; pos.i == len(chunks[pos.chunk]) {
			pos = queuePos{pos.chunk + 1, 0}
		}
	}
	return recs, release, pos
}

// writeBatch appends recs, the records of chunks from pos on, to q's
// partition as one request, answers each, releases their buffer space and
// keeps every chunk it empties for reuse.
func (pr *Producer) writeBatch(q *produceQueue, req *appendReq, chunks [][]pending, pos queuePos, recs []Record, release int64) {
	req.recs = recs
	err := q.p.append(context.Background(), req)
	first := pos.chunk
	for i := range recs {
		c := chunks[pos.chunk]
		c[pos.i].cb(recs[i], err)
		c[pos.i] = pending{} // drop the callback and record so they can be collected
		if pos.i++; pos.i == len(c) {
			pos = queuePos{pos.chunk + 1, 0}
		}
	}
	pr.sem.Release(release)
	clear(recs)

	pr.mu.Lock()
	q.completed += int64(len(recs))
	for _, c := range chunks[first:pos.chunk] { // the chunks this batch emptied
		if cap(c) == chunkRecords && len(pr.free) < maxFreeChunks {
			pr.free = append(pr.free, c[:0])
		}
	}
	pr.mu.Unlock()
	pr.flushed.broadcast()
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
