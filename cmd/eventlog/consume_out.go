package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"syscall"

	"github.com/eventlog/eventlog"
)

// errConsumeLimit ends reading once -c records have been printed.
var errConsumeLimit = errors.New("consume: count reached")

// errConsumeClosed ends reading when stdout is closed, as when
// "eventlog consume -e orders | head" has read enough. consume then exits
// 0, quietly, as cat does.
var errConsumeClosed = errors.New("consume: stdout closed")

// consumeOut writes formatted records to stdout through a buffer and
// counts them against -c.
type consumeOut struct {
	w       *bufio.Writer
	format  consumeFormatter
	buf     []byte
	printed int64
	limit   int64 // -c; math.MaxInt64 without
}

func newConsumeOut(w io.Writer, format consumeFormatter, limit int64) *consumeOut {
	if limit <= 0 {
		limit = math.MaxInt64
	}
	return &consumeOut{w: bufio.NewWriterSize(w, 64<<10), format: format, limit: limit}
}

// room returns how many more records -c lets consume print.
func (o *consumeOut) room() int64 { return o.limit - o.printed }

// print writes one record to the buffer. It returns errConsumeLimit once
// the record it printed was the last one -c allows.
func (o *consumeOut) print(r *eventlog.Record) error {
	o.buf = o.format(o.buf[:0], r)
	if _, err := o.w.Write(o.buf); err != nil {
		return consumeWriteError(err)
	}
	o.printed++
	if o.printed >= o.limit {
		return errConsumeLimit
	}
	return nil
}

// flush writes out what the buffer holds.
func (o *consumeOut) flush() error {
	return consumeWriteError(o.w.Flush())
}

// consumeWriteError turns a failed write to stdout into errConsumeClosed
// if the reader went away (a broken pipe), or says what failed.
func consumeWriteError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EPIPE):
		return errConsumeClosed
	}
	return fmt.Errorf("write to stdout: %w", err)
}
