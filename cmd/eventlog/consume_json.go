package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/eventlog/eventlog"
)

// consumeJSONRecord is one line of --json output. Keys, values and header
// values are bytes: a field holds them as a JSON string when they are
// valid UTF-8 and otherwise as standard base64, with a sibling
// "..._encoding": "base64" saying so; a nil key or value is null, an empty
// one "". Header keys are strings and never base64 unless they are not
// valid UTF-8, marked the same way.
type consumeJSONRecord struct {
	Topic         string              `json:"topic"`
	Partition     int                 `json:"partition"`
	Offset        int64               `json:"offset"`
	Timestamp     int64               `json:"timestamp"` // Unix milliseconds, as kcat's %T
	Time          string              `json:"time"`      // the same in RFC 3339, UTC, at full precision
	Headers       []consumeJSONHeader `json:"headers"`   // [] when there are none
	Key           *string             `json:"key"`
	KeyEncoding   string              `json:"key_encoding,omitempty"`
	Value         *string             `json:"value"`
	ValueEncoding string              `json:"value_encoding,omitempty"`
}

// consumeJSONHeader is one header of a consumeJSONRecord.
type consumeJSONHeader struct {
	Key           string  `json:"key"`
	KeyEncoding   string  `json:"key_encoding,omitempty"`
	Value         *string `json:"value"`
	ValueEncoding string  `json:"value_encoding,omitempty"`
}

// consumeJSONBase64 is the "..._encoding" of a field that holds base64.
const consumeJSONBase64 = "base64"

// consumeJSONBytes returns b as a --json field and its encoding: nil for
// nil, the text itself if it is valid UTF-8, else base64 and "base64".
func consumeJSONBytes(b []byte) (*string, string) {
	if b == nil {
		return nil, ""
	}
	if utf8.Valid(b) {
		s := string(b)
		return &s, ""
	}
	s := base64.StdEncoding.EncodeToString(b)
	return &s, consumeJSONBase64
}

// newConsumeJSONRecord converts r to its --json form.
func newConsumeJSONRecord(r *eventlog.Record) consumeJSONRecord {
	j := consumeJSONRecord{
		Topic:     r.Topic,
		Partition: r.Partition,
		Offset:    r.Offset,
		Timestamp: r.Time.UnixMilli(),
		Time:      r.Time.UTC().Format(time.RFC3339Nano),
		Headers:   make([]consumeJSONHeader, 0, len(r.Headers)),
	}
	j.Key, j.KeyEncoding = consumeJSONBytes(r.Key)
	j.Value, j.ValueEncoding = consumeJSONBytes(r.Value)
	for _, h := range r.Headers {
		jh := consumeJSONHeader{Key: h.Key}
		if !utf8.ValidString(h.Key) {
			jh.Key, jh.KeyEncoding = base64.StdEncoding.EncodeToString([]byte(h.Key)), consumeJSONBase64
		}
		jh.Value, jh.ValueEncoding = consumeJSONBytes(h.Value)
		j.Headers = append(j.Headers, jh)
	}
	return j
}

// newConsumeJSON returns the --json formatter: one JSON object per line.
// It reuses one buffer, so the formatter must not be called concurrently.
func newConsumeJSON() consumeFormatter {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <, > and & readable; the output is no HTML
	return func(dst []byte, r *eventlog.Record) []byte {
		buf.Reset()
		// Encode cannot fail: every field is a string, a number or a slice
		// of them.
		_ = enc.Encode(newConsumeJSONRecord(r))
		return append(dst, buf.Bytes()...)
	}
}
