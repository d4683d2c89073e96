package murmur2_test

import (
	"fmt"

	"github.com/eventlog/eventlog/internal/murmur2"
)

func ExamplePartition() {
	// The partition Kafka's Java producer picks for key "abc" in a topic
	// with 1000 partitions.
	fmt.Println(murmur2.Partition([]byte("abc"), 1000))
	// Output: 107
}

func ExampleSum32() {
	// Java's Utils.murmur2 returns a signed int; convert to compare.
	fmt.Println(int32(murmur2.Sum32([]byte("foobar"))))
	// Output: -790332482
}
