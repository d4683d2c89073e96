package eventlog

import (
	"time"

	"github.com/eventlog/eventlog/segment"
)

// enforceRetention deletes, in every topic that has a retention limit, the
// whole segments that are past it. Failures are logged, not returned: a
// retention pass that fails is tried again at the next tick.
func (l *Log) enforceRetention(now time.Time) {
	for _, t := range *l.topics.Load() {
		if t.cfg.Retention == 0 && t.cfg.RetentionBytes == 0 {
			continue
		}
		t.enforceRetention(now)
	}
}

func (t *Topic) enforceRetention(now time.Time) {
	t.storesMu.Lock() // the stores stay open while we use them
	defer t.storesMu.Unlock()
	if t.stopped {
		return
	}
	for _, p := range t.parts {
		if err := p.enforceRetention(now); err != nil {
			t.log.opts.Logger.Warn("eventlog: retention failed", "topic", t.name, "partition", p.id, "err", err)
		}
	}
}

// enforceRetention drops p's oldest segments that are past the topic's
// Retention or beyond its RetentionBytes, never the newest segment and
// never records that are not yet durable.
func (p *Partition) enforceRetention(now time.Time) error {
	segs, err := p.store.Segments()
	if err != nil {
		return p.storeError(err)
	}
	cut := retentionCut(segs, p.t.cfg, now, p.durable.Load())
	first, _ := p.store.Bounds()
	if cut <= first {
		return nil
	}
	return p.storeError(p.store.DropBefore(cut))
}

// retentionCut returns the offset before which whole segments may go: the
// first offset of the oldest segment that must stay.
func retentionCut(segs []segment.Info, cfg TopicConfig, now time.Time, durable int64) int64 {
	if len(segs) < 2 {
		return 0
	}
	var total int64
	for _, s := range segs {
		total += s.Bytes
	}
	deadline := now.Add(-cfg.Retention).UnixNano()
	keep := 0
	for keep < len(segs)-1 { // the newest segment always stays
		s := segs[keep]
		expired := cfg.Retention > 0 && s.MaxTime < deadline
		oversize := cfg.RetentionBytes > 0 && total-s.Bytes >= cfg.RetentionBytes
		if (!expired && !oversize) || s.NextOffset > durable {
			break
		}
		total -= s.Bytes
		keep++
	}
	return segs[keep].FirstOffset
}

// dropSegmentsBefore drops p's whole segments that end at or before off,
// keeping the segment holding the newest record, as retention does.
func (p *Partition) dropSegmentsBefore(off int64) error {
	t := p.t
	t.storesMu.Lock() // the store stays open while we use it
	defer t.storesMu.Unlock()
	if t.stopped {
		return ErrClosed
	}
	segs, err := p.store.Segments()
	if err != nil {
		return p.storeError(err)
	}
	off = min(off, p.durable.Load())
	cut := int64(-1)
	for _, s := range segs[:max(0, len(segs)-1)] { // never the newest segment
		if s.NextOffset > off {
			break
		}
		cut = s.NextOffset
	}
	if first, _ := p.store.Bounds(); cut <= first {
		return nil
	}
	return p.storeError(p.store.DropBefore(cut))
}
