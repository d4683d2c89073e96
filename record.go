package eventlog

import (
	"time"
	"unsafe"

	"github.com/eventlog/eventlog/segment"
)

// Record is one entry of a partition: a key, a value, headers and a time,
// at an offset.
//
// When producing, set Topic, and Key, Value, Headers and Time as needed;
// Partition is used only with ManualPartitioner, and Offset is ignored.
// A zero Time is set to the time the record is appended. When reading,
// every field is filled in.
//
// A nil Key or Value is stored apart from an empty one and read back as nil.
// A record with a nil Value is a tombstone for its key.
type Record struct {
	Topic     string
	Partition int
	Offset    int64
	Time      time.Time
	Key       []byte
	Value     []byte
	Headers   []Header
}

// Header is one record header. Keys need not be unique; their order is kept.
type Header struct {
	Key   string
	Value []byte
}

// The conversions below reinterpret []Header as []segment.Header without
// copying. This conversion compiles only while the two struct types are
// identical, which is what makes the reinterpretation safe.
var _ = segment.Header(Header{})

func toSegmentHeaders(h []Header) []segment.Header {
	if h == nil {
		return nil
	}
	return unsafe.Slice((*segment.Header)(unsafe.Pointer(unsafe.SliceData(h))), len(h))
}

func fromSegmentHeaders(h []segment.Header) []Header {
	if h == nil {
		return nil
	}
	return unsafe.Slice((*Header)(unsafe.Pointer(unsafe.SliceData(h))), len(h))
}

// toSegment converts a record whose Offset and Time are assigned.
func toSegment(r *Record) segment.Record {
	return segment.Record{
		Offset:  r.Offset,
		Time:    r.Time.UnixNano(),
		Key:     r.Key,
		Value:   r.Value,
		Headers: toSegmentHeaders(r.Headers),
	}
}

// encodedSize is the size MaxRecordSize is compared with.
func encodedSize(r *Record) int {
	return segment.EncodedSize(segment.Record{Key: r.Key, Value: r.Value, Headers: toSegmentHeaders(r.Headers)})
}
