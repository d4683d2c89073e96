package murmur2

import (
	"fmt"
	"testing"
)

// Vectors from Kafka's own test of Utils.murmur2:
// apache/kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java,
// testMurmur2 (the same six cases are in twmb/franz-go
// pkg/kgo/partitioner_test.go, TestMurmur2KafkaVectors). Java states them as
// signed ints.
var kafkaUtilsTestVectors = []struct {
	in   string
	want int32
}{
	{"21", -973932308},
	{"foobar", -790332482},
	{"a-little-bit-long-string", -985981536},
	{"a-little-bit-longer-string", -1486304829},
	{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
	{"abc", 479470107},
}

// Vectors from librdkafka's unittest_murmur2 (src/rdmurmur2.c), whose table
// is named java_murmur2_results. Between them they cover every tail length
// (0 to 3 bytes) and the empty key.
var librdkafkaVectors = []struct {
	in   string
	want uint32
}{
	{"kafka", 0xd067cf64},
	{"giberish123456789", 0x8f552b0c},
	{"1234", 0x9fc97b14},
	{"234", 0xe7c009ca},
	{"34", 0x873930da},
	{"4", 0x5a4b5ca1},
	{"PreAmbleWillBeRemoved,ThePrePartThatIs", 0x78424f1c},
	{"reAmbleWillBeRemoved,ThePrePartThatIs", 0x4a62b377},
	{"eAmbleWillBeRemoved,ThePrePartThatIs", 0xe0e4e09e},
	{"AmbleWillBeRemoved,ThePrePartThatIs", 0x62b8b43f},
	{"", 0x106e08d9},
}

func TestSum32KafkaUtilsTest(t *testing.T) {
	for _, c := range kafkaUtilsTestVectors {
		if got := int32(Sum32([]byte(c.in))); got != c.want {
			t.Errorf("int32(Sum32(%q)) = %d; want %d", c.in, got, c.want)
		}
	}
}

func TestSum32Librdkafka(t *testing.T) {
	for _, c := range librdkafkaVectors {
		if got := Sum32([]byte(c.in)); got != c.want {
			t.Errorf("Sum32(%q) = %#x; want %#x", c.in, got, c.want)
		}
	}
}

func TestSum32NilIsEmpty(t *testing.T) {
	if got, want := Sum32(nil), Sum32([]byte{}); got != want {
		t.Errorf("Sum32(nil) = %#x; want %#x, the hash of an empty key", got, want)
	}
}

// TestSum32DoesNotModifyInput guards the promise that data is only read.
func TestSum32DoesNotModifyInput(t *testing.T) {
	in := []byte("a-little-bit-longer-string")
	want := string(in)
	Sum32(in)
	if string(in) != want {
		t.Errorf("Sum32 changed its input to %q; want %q", in, want)
	}
}

// Key-to-partition vectors over 1000 partitions from dpkp/kafka-python
// test/test_partitioner.py, test_murmur2_java_compatibility, which notes
// they were compared "with output from Kafka's
// org.apache.kafka.clients.producer.Partitioner".
func TestPartitionKafkaPython(t *testing.T) {
	cases := []struct {
		key  []byte
		want int
	}{
		{[]byte(""), 681},
		{[]byte("a"), 524},
		{[]byte("ab"), 434},
		{[]byte("abc"), 107},
		{[]byte("123456789"), 566},
		{[]byte("\x00 "), 742},
	}
	for _, c := range cases {
		if got := Partition(c.key, 1000); got != c.want {
			t.Errorf("Partition(%q, 1000) = %d; want %d", c.key, got, c.want)
		}
	}
}

// TestPartitionClearsSignBit checks the toPositive step on keys whose hash
// has the sign bit set: Kafka masks it off, it does not negate (Math.abs
// would give a different partition, and an int32 modulo a negative one).
func TestPartitionClearsSignBit(t *testing.T) {
	for _, c := range kafkaUtilsTestVectors {
		if c.want >= 0 {
			continue
		}
		for _, n := range []int{1, 3, 7, 12, 100, 1 << 20} {
			want := int(int64(c.want)&0x7fffffff) % n
			got := Partition([]byte(c.in), n)
			if got != want || got < 0 || got >= n {
				t.Errorf("Partition(%q, %d) = %d; want %d", c.in, n, got, want)
			}
		}
	}
}

func TestPartitionPanicsOnNonPositiveCount(t *testing.T) {
	for _, n := range []int{0, -1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Partition(key, %d) did not panic", n)
				}
			}()
			Partition([]byte("k"), n)
		})
	}
}

func BenchmarkSum32(b *testing.B) {
	for _, size := range []int{8, 32, 256, 4096} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i)
		}
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				Sum32(data)
			}
		})
	}
}

func BenchmarkPartition(b *testing.B) {
	key := []byte("order-0000012345")
	for b.Loop() {
		Partition(key, 12)
	}
}
