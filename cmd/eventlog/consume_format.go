package main

import (
	"fmt"
	"strconv"

	"github.com/eventlog/eventlog"
)

// consumeFormatter appends one record, formatted, to dst and returns the
// extended slice.
type consumeFormatter func(dst []byte, r *eventlog.Record) []byte

// consumeValueLine is the output without -f or --json, as kcat's: the
// value followed by a newline.
func consumeValueLine(dst []byte, r *eventlog.Record) []byte {
	return append(append(dst, r.Value...), '\n')
}

// consumeFormatPart is a run of literal bytes or one %-token of a format.
type consumeFormatPart struct {
	lit []byte
	tok byte // 0 for a literal
}

// consumeFormatTokens describes the tokens of -f, for messages and help.
const consumeFormatTokens = "%t topic, %p partition, %o offset, %k key, %s value, %T timestamp (Unix ms), " +
	"%h headers (k=v,k=v), %K key length, %S value length, %% a percent sign"

// consumeParseFormat compiles a -f format string. It takes kcat's tokens
// (see consumeFormatTokens; the lengths are -1 for a null key or value)
// and the escapes \n \r \t \0 \\ and \xHH. Like kcat, it adds nothing
// between records: end the format with \n for one record per line.
func consumeParseFormat(s string) (consumeFormatter, error) {
	var parts []consumeFormatPart
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			parts = append(parts, consumeFormatPart{lit: lit})
			lit = nil
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			if i+1 == len(s) {
				return nil, usageError("-f %q ends in a lone %% (write %%%% for a percent sign)", s)
			}
			i++
			switch t := s[i]; t {
			case '%':
				lit = append(lit, '%')
			case 't', 'p', 'o', 'k', 's', 'T', 'h', 'K', 'S':
				flush()
				parts = append(parts, consumeFormatPart{tok: t})
			default:
				return nil, usageError("-f %q: unknown token %%%c (known: %s)", s, t, consumeFormatTokens)
			}
		case '\\':
			b, n, err := consumeUnescape(s[i:])
			if err != nil {
				return nil, usageError("-f %q: %v", s, err)
			}
			lit = append(lit, b)
			i += n - 1
		default:
			lit = append(lit, c)
		}
	}
	flush()
	return func(dst []byte, r *eventlog.Record) []byte {
		for _, p := range parts {
			dst = consumeAppendToken(dst, p, r)
		}
		return dst
	}, nil
}

// consumeUnescape decodes the escape at the start of s, which begins with
// a backslash, and returns its byte and its length in s.
func consumeUnescape(s string) (b byte, n int, err error) {
	if len(s) < 2 {
		return 0, 0, fmt.Errorf("a lone backslash at the end (write \\\\ for one)")
	}
	switch s[1] {
	case 'n':
		return '\n', 2, nil
	case 'r':
		return '\r', 2, nil
	case 't':
		return '\t', 2, nil
	case '0':
		return 0, 2, nil
	case '\\':
		return '\\', 2, nil
	case 'x':
		if len(s) >= 4 {
			if v, err := strconv.ParseUint(s[2:4], 16, 8); err == nil {
				return byte(v), 4, nil
			}
		}
		return 0, 0, fmt.Errorf("\\x takes two hex digits")
	}
	return 0, 0, fmt.Errorf("unknown escape \\%c (known: \\n \\r \\t \\0 \\\\ \\xHH)", s[1])
}

// consumeAppendToken appends one part of a format for r.
func consumeAppendToken(dst []byte, p consumeFormatPart, r *eventlog.Record) []byte {
	switch p.tok {
	case 0:
		return append(dst, p.lit...)
	case 't':
		return append(dst, r.Topic...)
	case 'p':
		return strconv.AppendInt(dst, int64(r.Partition), 10)
	case 'o':
		return strconv.AppendInt(dst, r.Offset, 10)
	case 'k':
		return append(dst, r.Key...)
	case 's':
		return append(dst, r.Value...)
	case 'T':
		return strconv.AppendInt(dst, r.Time.UnixMilli(), 10)
	case 'K':
		return consumeAppendLen(dst, r.Key)
	case 'S':
		return consumeAppendLen(dst, r.Value)
	case 'h':
		for i, h := range r.Headers {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(append(append(dst, h.Key...), '='), h.Value...)
		}
	}
	return dst
}

// consumeAppendLen appends the length of b, or -1 if b is nil (kcat's
// convention for a null key or value).
func consumeAppendLen(dst, b []byte) []byte {
	if b == nil {
		return append(dst, "-1"...)
	}
	return strconv.AppendInt(dst, int64(len(b)), 10)
}
