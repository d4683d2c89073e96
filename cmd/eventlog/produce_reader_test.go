package main

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/eventlog/eventlog"
)

// produceReadAll returns every record r gives before io.EOF, or the error.
func produceReadAll(r *produceReader) ([]string, error) {
	var recs []string
	for {
		rec, err := r.next()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return recs, err
		}
		recs = append(recs, string(rec))
	}
}

func TestProduceReaderSplits(t *testing.T) {
	long := strings.Repeat("L", 200<<10) // spans several bufio buffers
	for _, tc := range []struct {
		name, in, delim string
		want            []string
	}{
		{"lines", "a\nb\nc\n", "\n", []string{"a", "b", "c"}},
		{"no final newline", "a\nb", "\n", []string{"a", "b"}},
		{"empty records are returned", "\n\na\n", "\n", []string{"", "", "a"}},
		{"empty input", "", "\n", nil},
		{"only a delimiter", "\n", "\n", []string{""}},
		{"multi-byte", "a::b:c::", "::", []string{"a", "b:c"}},
		{"multi-byte, last byte repeated", "a:::b", "::", []string{"a", ":b"}},
		{"multi-byte, partial at the end", "a::b:", "::", []string{"a", "b:"}},
		{"long records", long + "\n" + long, "\n", []string{long, long}},
		{"long record, multi-byte", long + "\r\n" + "x", "\r\n", []string{long, "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One byte per Read: records and delimiters arrive in pieces.
			for _, in := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
				got, err := produceReadAll(newProduceReader(in, []byte(tc.delim), 1<<20))
				if err != nil || !slices.Equal(got, tc.want) {
					t.Fatalf("records of %.40q split at %q = %.80q, %v; want %.80q", tc.in, tc.delim, got, err, tc.want)
				}
			}
		})
	}
}

func TestProduceReaderLimit(t *testing.T) {
	const max = 100
	for _, tc := range []struct {
		name, in string
		want     []string // before the error, if wantErr
		wantErr  bool
	}{
		{"at the limit", strings.Repeat("a", max) + "\n", []string{strings.Repeat("a", max)}, false},
		{"at the limit, no newline", strings.Repeat("a", max), []string{strings.Repeat("a", max)}, false},
		{"one over", "ok\n" + strings.Repeat("a", max+1) + "\n", []string{"ok"}, true},
		{"one over, no newline", strings.Repeat("a", max+1), nil, true},
		{"far over", strings.Repeat("a", 10*max) + "\nmore\n", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := produceReadAll(newProduceReader(strings.NewReader(tc.in), []byte("\n"), max))
			if tc.wantErr != errors.Is(err, eventlog.ErrRecordTooLarge) || (!tc.wantErr && err != nil) {
				t.Fatalf("error = %v; want ErrRecordTooLarge: %v", err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("records = %.40q; want %.40q", got, tc.want)
			}
		})
	}
}

func TestProduceReaderReportsReadErrors(t *testing.T) {
	boom := errors.New("boom")
	r := newProduceReader(io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(boom)), []byte("\n"), 1<<20)
	got, err := produceReadAll(r)
	if !errors.Is(err, boom) || !slices.Equal(got, []string{"a"}) {
		t.Errorf("records, error = %q, %v; want [a] then the read error", got, err)
	}
}

func TestProduceUnescape(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{`:`, ":", true},
		{`\n`, "\n", true},
		{`\t|\r`, "\t|\r", true},
		{`\0`, "\x00", true},
		{`\\`, `\`, true},
		{`\x1f\x7C`, "\x1f\x7c", true},
		{`a\`, "", false},
		{`\q`, "", false},
		{`\x`, "", false},
		{`\x4`, "", false},
		{`\xzz`, "", false},
	} {
		got, err := produceUnescape(tc.in)
		if (err == nil) != tc.ok || (tc.ok && string(got) != tc.want) {
			t.Errorf("produceUnescape(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestProduceParseHeaders(t *testing.T) {
	got, err := produceParseHeaders([]string{"a=1", "b=x=y", "c=", "a=2"})
	want := []eventlog.Header{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("x=y")}, {Key: "c", Value: []byte("")}, {Key: "a", Value: []byte("2")}}
	if err != nil || !slices.EqualFunc(got, want, produceSameHeader) {
		t.Errorf("produceParseHeaders = %v, %v; want %v in order, repeated keys kept", got, err, want)
	}
	for _, bad := range []string{"novalue", "=v", ""} {
		if _, err := produceParseHeaders([]string{bad}); !errors.Is(err, errUsage) {
			t.Errorf("produceParseHeaders(%q) error = %v; want a usage error", bad, err)
		}
	}
}
