// Package murmur2 is Kafka's 32-bit murmur2 hash and its key-to-partition
// mapping, bit for bit as the Java client computes them.
//
// Sum32 matches org.apache.kafka.common.utils.Utils.murmur2 and Partition
// matches the Java producer's keyed placement,
// Utils.toPositive(Utils.murmur2(key)) % numPartitions. A key therefore
// lands on the same partition number here as it would in a Kafka topic with
// the same partition count, whichever client wrote it (the Java client,
// librdkafka's murmur2 partitioners, franz-go's StickyKeyPartitioner).
//
// Both functions are pure: they keep no state, do not retain data and are
// safe for concurrent use.
package murmur2

import "encoding/binary"

const (
	// seed is the seed Kafka's Utils.murmur2 starts from.
	seed = 0x9747b28c
	// m and r are MurmurHash2's mixing constants.
	m = 0x5bd1e995
	r = 24
)

// Sum32 returns Kafka's murmur2 hash of data.
//
// The result is the same 32 bits as the Java int that Utils.murmur2
// returns; convert with int32(Sum32(data)) to compare with a signed Java
// value. Java's int arithmetic wraps modulo 2^32 and its >>> is an unsigned
// shift, which is exactly uint32 arithmetic and >> in Go. A nil or empty
// data hashes like Java's empty array (0x106e08d9).
func Sum32(data []byte) uint32 {
	n := len(data)
	// Java takes data.length as an int; keys longer than 2 GiB cannot exist
	// there, and truncating to 32 bits keeps the same value for all others.
	h := uint32(seed) ^ uint32(n)

	// Body: little-endian 4-byte words.
	for len(data) >= 4 {
		k := binary.LittleEndian.Uint32(data)
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
		data = data[4:]
	}

	// Tail: the last 1-3 bytes, in Java's fall-through switch order. Java
	// masks each byte with 0xff, so bytes are unsigned as they are here.
	switch len(data) {
	case 3:
		h ^= uint32(data[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[0])
		h *= m
	}

	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// Partition returns the partition, in [0, n), that Kafka's Java producer
// chooses for a record with this key among n partitions:
// (Sum32(key) & 0x7fffffff) % n. The mask is Kafka's Utils.toPositive,
// which clears the sign bit rather than taking an absolute value.
//
// n must be positive; Partition panics otherwise, as a division by zero
// would. A partition count comes from a topic's configuration, so a bad n
// is a bug in the caller, not bad data.
func Partition(key []byte, n int) int {
	if n <= 0 {
		panic("murmur2: Partition called with non-positive partition count")
	}
	return int(Sum32(key)&0x7fffffff) % n
}
