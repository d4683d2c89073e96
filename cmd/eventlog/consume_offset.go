package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eventlog/eventlog"
)

// consumeFrom says which part of -o was given.
type consumeFrom int

const (
	consumeBeginning consumeFrom = iota // -o beginning: FirstOffset
	consumeEnd                          // -o end: NextOffset
	consumeAbsolute                     // -o N: offset N
	consumeFromEnd                      // -o -N: N records before the end
	consumeAtTime                       // -o @T: the first record at or after T
)

// consumeOffset is a parsed -o value: where to start reading a partition.
type consumeOffset struct {
	from consumeFrom
	n    int64     // the offset (consumeAbsolute) or the count (consumeFromEnd)
	at   time.Time // consumeAtTime
	spec string    // as typed, for messages
}

// consumeParseOffset parses -o as kcat does: beginning, end, N (an
// absolute offset), -N (N records before the end) or @T (the first record
// with a time at or after T, in Unix milliseconds; kcat's s@T is accepted
// too). T may also be an RFC 3339 time, such as 2024-05-01T12:00:00Z.
func consumeParseOffset(s string) (consumeOffset, error) {
	o := consumeOffset{spec: s}
	bad := func(why string) (consumeOffset, error) {
		return consumeOffset{}, usageError("-o %q: %s (want beginning, end, N, -N or @TIME)", s, why)
	}
	switch {
	case s == "beginning":
		o.from = consumeBeginning
	case s == "end":
		o.from = consumeEnd
	case strings.HasPrefix(s, "@") || strings.HasPrefix(s, "s@"):
		t, err := consumeParseTime(s[strings.IndexByte(s, '@')+1:])
		if err != nil {
			return bad(err.Error())
		}
		o.from, o.at = consumeAtTime, t
	case strings.HasPrefix(s, "-"):
		n, err := strconv.ParseInt(s[1:], 10, 64)
		if err != nil || n < 0 || s[1:] == "" || s[1] == '+' {
			return bad("-N takes a count of records")
		}
		o.from, o.n = consumeFromEnd, n
	default:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || s[0] == '+' {
			return bad("not a known offset")
		}
		o.from, o.n = consumeAbsolute, n
	}
	return o, nil
}

// consumeParseTime parses the T of -o @T: Unix milliseconds, as kcat takes
// it, or an RFC 3339 time.
func consumeParseTime(s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither Unix milliseconds nor an RFC 3339 time", s)
	}
	return t, nil
}

// resolve returns the offset to start reading p from. An absolute offset
// outside the partition's records is an error wrapping
// eventlog.ErrOffsetOutOfRange that says which offsets there are.
func (o consumeOffset) resolve(p *eventlog.Partition) (int64, error) {
	first, next := p.FirstOffset(), p.NextOffset()
	switch o.from {
	case consumeEnd:
		return next, nil
	case consumeAbsolute:
		if o.n < first || o.n > next {
			held := "holds no records"
			if first < next {
				held = fmt.Sprintf("holds offsets %d to %d", first, next-1)
			}
			return 0, fmt.Errorf("-o %s: partition %d of %s %s (its next offset is %d): %w",
				o.spec, p.ID(), p.Topic(), held, next, eventlog.ErrOffsetOutOfRange)
		}
		return o.n, nil
	case consumeFromEnd:
		if o.n >= next-first {
			return first, nil
		}
		return next - o.n, nil
	case consumeAtTime:
		off, err := p.OffsetForTime(o.at)
		if err != nil {
			return 0, fmt.Errorf("-o %s: partition %d of %s: %w", o.spec, p.ID(), p.Topic(), err)
		}
		return off, nil
	}
	return first, nil
}
