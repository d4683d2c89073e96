package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/eventlog/eventlog"
)

// produceReader splits its input into records at a delimiter of one or
// more bytes, like kcat -P: the delimiter is not part of a record, and
// input ending with a delimiter does not end with an empty record. Unlike
// bufio.Scanner it has no 64 KiB limit: a record may be up to max bytes.
type produceReader struct {
	r     *bufio.Reader
	delim []byte
	max   int
	buf   []byte
}

// newProduceReader reads records separated by delim, of at most max bytes
// each, from r. delim must not be empty.
func newProduceReader(r io.Reader, delim []byte, max int) *produceReader {
	return &produceReader{r: bufio.NewReaderSize(r, 64<<10), delim: delim, max: max}
}

// next returns the next record, without its delimiter, or io.EOF after
// the last. The record is valid only until the next call. A record longer
// than max fails with an error wrapping eventlog.ErrRecordTooLarge; after
// any error the reader must not be used again.
func (pr *produceReader) next() ([]byte, error) {
	pr.buf = pr.buf[:0]
	last := pr.delim[len(pr.delim)-1]
	for {
		chunk, err := pr.r.ReadSlice(last)
		pr.buf = append(pr.buf, chunk...)
		if len(pr.buf) > pr.max+len(pr.delim) {
			return nil, pr.tooLong() // with or without a delimiter to come
		}
		switch {
		case err == nil:
			if bytes.HasSuffix(pr.buf, pr.delim) {
				return pr.record(pr.buf[:len(pr.buf)-len(pr.delim)])
			}
			// The delimiter's last byte alone, or inside the record.
		case errors.Is(err, bufio.ErrBufferFull):
			// A long record: keep reading.
		case errors.Is(err, io.EOF):
			if len(pr.buf) == 0 {
				return nil, io.EOF
			}
			return pr.record(pr.buf) // the last record, with no delimiter after it
		default:
			return nil, err
		}
	}
}

// record returns rec, or an error if it is longer than max.
func (pr *produceReader) record(rec []byte) ([]byte, error) {
	if len(rec) > pr.max {
		return nil, pr.tooLong()
	}
	return rec, nil
}

func (pr *produceReader) tooLong() error {
	return fmt.Errorf("longer than the limit of %d bytes: %w", pr.max, eventlog.ErrRecordTooLarge)
}
