package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/eventlog/eventlog"
)

// produceParseHeaders turns -H flags, each "key=value", into headers in the
// order given. The value is everything after the first '=' and may be
// empty; the key may not.
func produceParseHeaders(flags []string) ([]eventlog.Header, error) {
	var hs []eventlog.Header
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, usageError("-H %q: a header is key=value", f)
		}
		hs = append(hs, eventlog.Header{Key: k, Value: []byte(v)})
	}
	return hs, nil
}

// produceUnescape turns a delimiter as typed on a command line into bytes:
// the escapes \n, \r, \t, \0, \\ and \xHH stand for the bytes they name
// (so -D '\0' reads NUL-separated input, as from find -print0); any other
// character stands for itself.
func produceUnescape(s string) ([]byte, error) {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b = append(b, s[i])
			continue
		}
		if i+1 == len(s) {
			return nil, fmt.Errorf("%q ends in a lone backslash (write \\\\ for one)", s)
		}
		i++
		switch s[i] {
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case '0':
			b = append(b, 0)
		case '\\':
			b = append(b, '\\')
		case 'x':
			if i+2 >= len(s) {
				return nil, fmt.Errorf("%q: \\x takes two hex digits", s)
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("%q: \\x takes two hex digits", s)
			}
			b = append(b, byte(v))
			i += 2
		default:
			return nil, fmt.Errorf("%q: unknown escape \\%c (known: \\n \\r \\t \\0 \\\\ \\xHH)", s, s[i])
		}
	}
	return b, nil
}
