package segment

// Header is one record header: a key and an optional value.
// A nil Value and an empty one are stored and returned distinctly.
type Header struct {
	Key   string
	Value []byte
}

// Record is one record as the store keeps it. Offsets are assigned by the
// caller (the partition's commit loop) and must continue the store exactly.
// Time is Unix nanoseconds. A nil Key or Value is kept apart from an empty
// one: a nil Value is a tombstone for compaction.
type Record struct {
	Offset  int64
	Time    int64
	Key     []byte
	Value   []byte
	Headers []Header
}

// Info describes one segment of a store: the records it holds and its size.
// Retention reads it to decide which whole segments to drop.
type Info struct {
	FirstOffset int64 // offset of its first record
	NextOffset  int64 // one past its last record
	Bytes       int64 // bytes it takes on disk (or would, for Mem)
	MaxTime     int64 // largest record Time in it, Unix nanoseconds
}
