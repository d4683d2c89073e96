package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/bits"
	"strings"
)

// The batch format is specified byte by byte in FORMAT.md; keep the two in
// step. All fixed-size integers are little-endian.
const (
	// BatchVersion is the format version this package writes into every
	// batch and the only one it reads: a batch with any other version byte
	// is rejected as corrupt, naming the version.
	BatchVersion = 1

	// BatchOverhead is the number of bytes a batch adds beyond the encodings
	// of its records: the fixed header (CRC32C, version, first offset, record
	// count, max time, header count).
	BatchOverhead = 29

	offCRC         = 0  // uint32: CRC32C of every byte after this field
	offVersion     = 4  // uint8: BatchVersion
	offFirstOffset = 5  // int64: offset of the first record
	offCount       = 13 // uint32: number of records, >= 1
	offMaxTime     = 17 // int64: largest record Time
	offHeaderCount = 25 // uint32: headers in all records together

	// minRecordSize is the smallest record encoding: time age, key tag,
	// value tag and header count, one byte each.
	minRecordSize = 4
	// minHeaderSize is the smallest header encoding: key length and value
	// tag, one byte each.
	minHeaderSize = 2
	// maxVarintLen is the longest uvarint of a uint64.
	maxVarintLen = binary.MaxVarintLen64
)

// castagnoli is the CRC32C table. It is never written after init.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt reports stored data that fails its checksum, version or
// framing checks. Every error from DecodeBatch, DecodeHeader and ScanSegment
// wraps it; use errors.As with *CorruptError to learn where it was found when
// a store reports it.
var ErrCorrupt = errors.New("segment: corrupt data")

// CorruptError locates corrupt data in a segment file. errors.Is(err,
// ErrCorrupt) reports true for it. Unknown fields hold "" (File) or -1 (Pos,
// Offset).
type CorruptError struct {
	File   string // segment file, as the store names it; "" if unknown
	Pos    int64  // byte position in File, -1 if unknown
	Offset int64  // first record offset affected, -1 if unknown
	Err    error  // what was found, such as a checksum mismatch
}

// Error describes the location and the cause.
func (e *CorruptError) Error() string {
	var b strings.Builder
	sep := func() {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
	}
	if e.File != "" {
		fmt.Fprintf(&b, "file %q", e.File)
	}
	if e.Pos >= 0 {
		sep()
		fmt.Fprintf(&b, "byte %d", e.Pos)
	}
	if e.Offset >= 0 {
		sep()
		fmt.Fprintf(&b, "offset %d", e.Offset)
	}
	if e.Err == nil {
		if b.Len() == 0 {
			return ErrCorrupt.Error()
		}
		return b.String() + ": " + ErrCorrupt.Error()
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	// Causes from this package wrap ErrCorrupt and so already end with its
	// text; others get it appended, so the message always names it once.
	if !errors.Is(e.Err, ErrCorrupt) {
		b.WriteString(": ")
		b.WriteString(ErrCorrupt.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *CorruptError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCorrupt) true for every *CorruptError.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// BatchHeader is what can be learned of a batch without decoding its
// records: the offsets it holds are [FirstOffset, FirstOffset+Count).
type BatchHeader struct {
	FirstOffset int64 // offset of the first record, >= 0
	Count       int   // number of records, >= 1
	MaxTime     int64 // largest record Time in the batch, Unix nanoseconds
}

// EncodedSize is the number of bytes r adds to a batch, at most. It is exact
// except for the record's time, which is stored relative to the batch's
// MaxTime in 1 to 10 bytes and counted here at 10, so the encoding of a batch
// never exceeds BatchOverhead plus the sum of EncodedSize over its records.
// r.Offset does not count: offsets are implied by position in the batch.
func EncodedSize(r Record) int {
	n := maxVarintLen + bytesFieldSize(r.Key) + bytesFieldSize(r.Value) + uvarintLen(uint64(len(r.Headers)))
	for _, h := range r.Headers {
		n += uvarintLen(uint64(len(h.Key))) + len(h.Key) + bytesFieldSize(h.Value)
	}
	return n
}

// AppendBatch appends the encoding of recs to dst and returns the extended
// slice. recs must hold at least one record and their offsets must be
// contiguous: recs[0].Offset is the batch's first offset, and the offsets of
// the others are implied by their position (they are not stored or checked).
// AppendBatch allocates only to grow dst, at most once. It panics if recs is
// empty or holds more than math.MaxUint32 records or headers, which is a bug
// in the caller.
func AppendBatch(dst []byte, recs []Record) []byte {
	if len(recs) == 0 {
		panic("segment: AppendBatch of an empty batch")
	}
	maxTime := recs[0].Time
	size := BatchOverhead
	headers := 0
	for i := range recs {
		r := &recs[i]
		if r.Time > maxTime {
			maxTime = r.Time
		}
		headers += len(r.Headers)
		size += EncodedSize(*r)
	}
	if uint64(len(recs)) > math.MaxUint32 || uint64(headers) > math.MaxUint32 {
		panic("segment: AppendBatch: too many records or headers in one batch")
	}
	if cap(dst)-len(dst) < size {
		// Grow once, by at least doubling, as append would.
		grown := make([]byte, len(dst), max(len(dst)+size, 2*cap(dst)))
		copy(grown, dst)
		dst = grown
	}

	start := len(dst)
	dst = dst[:start+BatchOverhead]
	hdr := dst[start:]
	hdr[offVersion] = BatchVersion
	binary.LittleEndian.PutUint64(hdr[offFirstOffset:], uint64(recs[0].Offset))
	binary.LittleEndian.PutUint32(hdr[offCount:], uint32(len(recs)))
	binary.LittleEndian.PutUint64(hdr[offMaxTime:], uint64(maxTime))
	binary.LittleEndian.PutUint32(hdr[offHeaderCount:], uint32(headers))

	for i := range recs {
		r := &recs[i]
		// The age below the newest record, as an unsigned difference: it
		// wraps correctly even across the whole int64 range.
		dst = binary.AppendUvarint(dst, uint64(maxTime)-uint64(r.Time))
		dst = appendBytesField(dst, r.Key)
		dst = appendBytesField(dst, r.Value)
		dst = binary.AppendUvarint(dst, uint64(len(r.Headers)))
		for _, h := range r.Headers {
			dst = binary.AppendUvarint(dst, uint64(len(h.Key)))
			dst = append(dst, h.Key...)
			dst = appendBytesField(dst, h.Value)
		}
	}
	binary.LittleEndian.PutUint32(dst[start+offCRC:], crc32.Checksum(dst[start+offVersion:], castagnoli))
	return dst
}

// DecodeHeader reads a batch's fixed header. Because the checksum covers the
// whole batch, it verifies it over all of data, which must be exactly one
// batch; the records themselves are not decoded. Every error wraps
// ErrCorrupt.
func DecodeHeader(data []byte) (BatchHeader, error) {
	h, _, err := decodeHeader(data)
	return h, err
}

// DecodeBatch decodes one batch and verifies its checksum. The records' Key,
// Value and header Value slices alias data (with their capacity capped at
// their length), so callers that keep them past a change to data copy data
// first; header keys are strings of their own. A record without headers has
// nil Headers. Every error wraps ErrCorrupt. DecodeBatch never panics on any
// input, and it rejects trailing bytes, non-minimal varints and any other
// second spelling of a batch: a batch has exactly one encoding, the one
// AppendBatch produces. It allocates the []Record, one []Header backing array
// for all headers and one string holding the distinct header keys; each is
// bounded by len(data).
func DecodeBatch(data []byte) ([]Record, error) {
	return decodeBatchInto(nil, data)
}

// decodeBatchInto is DecodeBatch decoding into buf's memory when it has
// room for every record (a reader that reuses one slice for each batch
// saves its allocation and zeroing), else into a new slice. Every field of
// every record is written, whatever buf held.
func decodeBatchInto(buf []Record, data []byte) ([]Record, error) {
	h, headerCount, err := decodeHeader(data)
	if err != nil {
		return nil, err
	}
	var recs []Record
	if cap(buf) >= h.Count {
		recs = buf[:h.Count]
	} else {
		recs = make([]Record, h.Count)
	}
	var hdrs []Header
	if headerCount > 0 {
		hdrs = make([]Header, headerCount)
	}
	var keys keySet // distinct header keys, to size one string for all of them
	sawMax := false
	p := BatchOverhead
	hi := 0 // headers used so far
	for i := range recs {
		r := &recs[i]
		r.Offset = h.FirstOffset + int64(i)

		// Each field tries the inlined one-byte varint first; the general
		// decoder handles longer varints and reports errors.
		age, q, ok := shortUvarint(data, p)
		if !ok {
			if age, q, err = uvarintAt(data, p, i, "time age"); err != nil {
				return nil, err
			}
		}
		t := int64(uint64(h.MaxTime) - age)
		if t > h.MaxTime {
			return nil, corruptf("record %d at batch byte %d: time age %d wraps past the batch max time %d", i, p, age, h.MaxTime)
		}
		sawMax = sawMax || age == 0
		r.Time = t
		p = q

		if r.Key, q, ok = shortField(data, p); !ok {
			if r.Key, q, err = bytesField(data, p, i, "key"); err != nil {
				return nil, err
			}
		}
		p = q
		if r.Value, q, ok = shortField(data, p); !ok {
			if r.Value, q, err = bytesField(data, p, i, "value"); err != nil {
				return nil, err
			}
		}
		p = q

		nh, q, ok := shortUvarint(data, p)
		if !ok {
			if nh, q, err = uvarintAt(data, p, i, "header count"); err != nil {
				return nil, err
			}
		}
		if nh > uint64(headerCount-hi) {
			return nil, corruptf("record %d at batch byte %d: %d headers exceed the %d left of the batch's %d", i, p, nh, headerCount-hi, headerCount)
		}
		p = q
		if nh == 0 {
			r.Headers = nil
			continue
		}
		r.Headers = hdrs[hi : hi+int(nh) : hi+int(nh)]
		hi += int(nh)
		for j := range r.Headers {
			// Until every key is known, Value holds the header's whole
			// encoding; finishHeaders splits it into Key and Value.
			start := p
			kl, q, ok := shortUvarint(data, p)
			if !ok {
				if kl, q, err = uvarintAt(data, p, i, "header key length"); err != nil {
					return nil, err
				}
			}
			if kl > uint64(len(data)-q) {
				return nil, corruptf("record %d at batch byte %d: header key of %d bytes overruns the batch (%d bytes left)", i, p, kl, len(data)-q)
			}
			p = q + int(kl)
			keys.add(data[q:p])
			if _, q, ok = shortField(data, p); !ok {
				if _, q, err = bytesField(data, p, i, "header value"); err != nil {
					return nil, err
				}
			}
			p = q
			r.Headers[j].Value = data[start:p:p]
		}
	}
	if p != len(data) {
		return nil, corruptf("%d trailing bytes after the last record at batch byte %d", len(data)-p, p)
	}
	if hi != headerCount {
		return nil, corruptf("records hold %d headers, the batch header says %d", hi, headerCount)
	}
	if !sawMax {
		return nil, corruptf("no record has the batch max time %d", h.MaxTime)
	}
	if headerCount > 0 {
		finishHeaders(hdrs, keys.size)
	}
	return recs, nil
}

// decodeHeader checks length, checksum and version, then the header fields.
// It also returns the batch's total header count.
func decodeHeader(data []byte) (BatchHeader, int, error) {
	if len(data) < BatchOverhead {
		return BatchHeader{}, 0, corruptf("batch of %d bytes is shorter than its %d-byte header", len(data), BatchOverhead)
	}
	stored := binary.LittleEndian.Uint32(data[offCRC:])
	sum := crc32.Checksum(data[offVersion:], castagnoli)
	v := data[offVersion]
	if stored != sum {
		if v != BatchVersion {
			return BatchHeader{}, 0, corruptf("batch checksum mismatch (stored %08x, computed %08x) and unknown format version %d", stored, sum, v)
		}
		return BatchHeader{}, 0, corruptf("batch checksum mismatch: stored %08x, computed %08x", stored, sum)
	}
	if v != BatchVersion {
		return BatchHeader{}, 0, corruptf("unsupported batch format version %d (this build reads version %d)", v, BatchVersion)
	}
	return parseHeader(data)
}

// validHeader reports whether DecodeHeader(data) would succeed, without
// allocating: the cheap checks first, then the checksum.
func validHeader(data []byte) (BatchHeader, bool) {
	if !plausibleHeader(data) {
		return BatchHeader{}, false
	}
	if binary.LittleEndian.Uint32(data[offCRC:]) != crc32.Checksum(data[offVersion:], castagnoli) {
		return BatchHeader{}, false
	}
	f := readHeader(data)
	return BatchHeader{FirstOffset: f.first, Count: int(f.count), MaxTime: f.maxTime}, true
}

// plausibleHeader reports whether data passes every check of DecodeHeader
// but the checksum.
func plausibleHeader(data []byte) bool {
	return len(data) >= BatchOverhead && data[offVersion] == BatchVersion && readHeader(data).problem == headerOK
}

// parseHeader checks the fixed header's fields against each other and
// against len(data), without the checksum. data is at least BatchOverhead
// bytes long.
func parseHeader(data []byte) (BatchHeader, int, error) {
	f := readHeader(data)
	switch f.problem {
	case headerOK:
		return BatchHeader{FirstOffset: f.first, Count: int(f.count), MaxTime: f.maxTime}, int(f.headers), nil
	case headerNegativeOffset:
		return BatchHeader{}, 0, corruptf("negative first offset %d", f.first)
	case headerNoRecords:
		return BatchHeader{}, 0, corruptf("batch of zero records")
	case headerCountTooBig:
		return BatchHeader{}, 0, corruptf("%d records cannot fit in %d bytes", f.count, f.body)
	case headerOffsetOverflow:
		return BatchHeader{}, 0, corruptf("offsets %d+%d overflow", f.first, f.count)
	default:
		return BatchHeader{}, 0, corruptf("%d headers cannot fit in %d bytes with %d records", f.headers, f.body, f.count)
	}
}

// headerFields are the fixed header's fields and the first problem found
// with them.
type headerFields struct {
	first, maxTime       int64
	count, headers, body uint64
	problem              int
}

const (
	headerOK = iota
	headerNegativeOffset
	headerNoRecords
	headerCountTooBig
	headerOffsetOverflow
	headerHeadersTooBig
)

// readHeader reads and checks the fixed header without allocating. data is
// at least BatchOverhead bytes long.
func readHeader(data []byte) headerFields {
	f := headerFields{
		first:   int64(binary.LittleEndian.Uint64(data[offFirstOffset:])),
		count:   uint64(binary.LittleEndian.Uint32(data[offCount:])),
		maxTime: int64(binary.LittleEndian.Uint64(data[offMaxTime:])),
		headers: uint64(binary.LittleEndian.Uint32(data[offHeaderCount:])),
		body:    uint64(len(data) - BatchOverhead),
	}
	switch {
	case f.first < 0:
		f.problem = headerNegativeOffset
	case f.count == 0:
		f.problem = headerNoRecords
	case f.count > f.body/minRecordSize:
		f.problem = headerCountTooBig
	case uint64(f.first) > math.MaxInt64-f.count:
		f.problem = headerOffsetOverflow
	case f.headers > (f.body-f.count*minRecordSize)/minHeaderSize:
		f.problem = headerHeadersTooBig
	}
	return f
}

// shortField decodes a nil-or-bytes field at data[p:] whose length fits a
// one-byte varint, and returns it with the position after it. It is small
// enough to inline; ok is false for anything else, which bytesField then
// decodes or reports.
func shortField(data []byte, p int) (b []byte, next int, ok bool) {
	if p < len(data) {
		if tag := int(data[p]); tag < 0x80 && tag <= len(data)-p {
			if tag == 0 {
				return nil, p + 1, true
			}
			return data[p+1 : p+tag : p+tag], p + tag, true
		}
	}
	return nil, p, false
}

// bytesField decodes a nil-or-bytes field at data[p:]: uvarint(len+1) then
// the bytes, or a single 0 for nil. It returns the field and the position
// after it; errors name record rec and the field.
func bytesField(data []byte, p, rec int, what string) ([]byte, int, error) {
	tag, n := uvarint(data[p:])
	if n <= 0 {
		return nil, p, recordErr(rec, p, what+" length", n)
	}
	q := p + n
	if tag == 0 {
		return nil, q, nil
	}
	if tag-1 > uint64(len(data)-q) {
		return nil, p, corruptf("record %d at batch byte %d: %s of %d bytes overruns the batch (%d bytes left)", rec, p, what, tag-1, len(data)-q)
	}
	end := q + int(tag-1)
	return data[q:end:end], end, nil
}

// shortUvarint decodes a one-byte uvarint at data[p:]; it is small enough to
// inline, and ok is false for anything else.
func shortUvarint(data []byte, p int) (v uint64, next int, ok bool) {
	if p < len(data) && data[p] < 0x80 {
		return uint64(data[p]), p + 1, true
	}
	return 0, p, false
}

// uvarintAt decodes a minimal uvarint at data[p:] and returns it with the
// position after it; errors name record rec and the field.
func uvarintAt(data []byte, p, rec int, what string) (uint64, int, error) {
	v, n := uvarint(data[p:])
	if n <= 0 {
		return 0, p, recordErr(rec, p, what, n)
	}
	return v, p + n, nil
}

// appendBytesField appends b as uvarint(len+1) || b, or a single 0 if b is
// nil, so nil and empty stay apart.
func appendBytesField(dst, b []byte) []byte {
	if b == nil {
		return append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(len(b))+1)
	return append(dst, b...)
}

// bytesFieldSize is the encoded size of a nil-or-bytes field.
func bytesFieldSize(b []byte) int {
	if b == nil {
		return 1
	}
	return uvarintLen(uint64(len(b))+1) + len(b)
}

// uvarintLen is the length of the minimal uvarint encoding of v.
func uvarintLen(v uint64) int {
	return (bits.Len64(v|1) + 6) / 7
}

// uvarint decodes a minimal uvarint. n is 0 if b ends first, and negative
// if the value overflows 64 bits or is not minimally encoded.
func uvarint(b []byte) (v uint64, n int) {
	v, n = binary.Uvarint(b)
	if n > 1 && b[n-1] == 0 {
		return 0, -n // a redundant trailing zero group: a second spelling
	}
	return v, n
}

// recordErr describes a varint that could not be read.
func recordErr(rec, p int, what string, n int) error {
	if n == 0 {
		return corruptf("record %d at batch byte %d: %s truncated", rec, p, what)
	}
	return corruptf("record %d at batch byte %d: %s is not a minimal 64-bit varint", rec, p, what)
}

// corruptf formats a decoding error that wraps ErrCorrupt.
func corruptf(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrCorrupt)...)
}

// keySet tracks the distinct header keys of a batch, so that one string can
// hold them all. It remembers up to len(seen) keys; later distinct keys are
// counted each time they occur.
type keySet struct {
	seen [8][]byte
	n    int
	size int // bytes needed for every key not deduplicated
}

func (s *keySet) add(k []byte) {
	if len(k) == 0 {
		return
	}
	for _, x := range s.seen[:s.n] {
		if string(x) == string(k) {
			return
		}
	}
	s.size += len(k)
	if s.n < len(s.seen) {
		s.seen[s.n] = k
		s.n++
	}
}

// finishHeaders splits each header's stashed encoding (left in Value by
// DecodeBatch) into its Key and Value. The keys are substrings of one string
// of size bytes, built with the same deduplication as keySet. Every field
// was validated by DecodeBatch.
func finishHeaders(hdrs []Header, size int) {
	var b strings.Builder
	b.Grow(size)
	var seen [8][]byte
	var seenStr [8]string
	n := 0
	for i := range hdrs {
		enc := hdrs[i].Value
		kl, w := uvarint(enc)
		k := enc[w : w+int(kl)]
		rest := enc[w+int(kl):]
		tag, w := uvarint(rest)
		if tag == 0 {
			hdrs[i].Value = nil
		} else {
			hdrs[i].Value = rest[w : w+int(tag-1) : w+int(tag-1)]
		}
		if len(k) == 0 {
			hdrs[i].Key = ""
			continue
		}
		found := false
		for j, x := range seen[:n] {
			if string(x) == string(k) {
				hdrs[i].Key = seenStr[j]
				found = true
				break
			}
		}
		if found {
			continue
		}
		// The Builder never changes bytes it has handed out, so each
		// String() is a valid, free view; with the exact Grow above it
		// never reallocates either.
		b.Write(k)
		s := b.String()
		key := s[len(s)-len(k):]
		hdrs[i].Key = key
		if n < len(seen) {
			seen[n], seenStr[n] = k, key
			n++
		}
	}
}
