package eventlog

import (
	"errors"
	"fmt"
)

// Sentinel errors. Check them with errors.Is: the library wraps them with
// the topic, partition or offset involved.
var (
	// ErrClosed is returned by every method of a Log or Producer after its
	// Close, and ends Read, Tail and Produce calls that were in progress.
	ErrClosed = errors.New("eventlog: closed")

	// ErrUnknownTopic is returned for a topic that does not exist, or that
	// was deleted while a call was using it.
	ErrUnknownTopic = errors.New("eventlog: unknown topic")

	// ErrTopicExists is returned by CreateTopic for a name already in use.
	// Nothing is changed.
	ErrTopicExists = errors.New("eventlog: topic exists")

	// ErrUnknownPartition is returned for a partition number outside
	// [0, Partitions) of its topic, whether asked for by Topic.Partition or
	// chosen by a Partitioner. Nothing is written.
	ErrUnknownPartition = errors.New("eventlog: unknown partition")

	// ErrInvalidName is returned for a topic or group name that is empty,
	// longer than 249 bytes, "." or "..", or holds a byte outside
	// [a-zA-Z0-9._-]; and for a topic name starting with "__", which is
	// reserved for the Log's internal topics (such as __consumer_offsets).
	ErrInvalidName = errors.New("eventlog: invalid name")

	// ErrInvalidConfig is returned for options or a TopicConfig that cannot
	// work, such as a negative size. Nothing is changed.
	ErrInvalidConfig = errors.New("eventlog: invalid configuration")

	// ErrOffsetOutOfRange is returned when reading below FirstOffset or
	// beyond NextOffset of a partition, including offsets that retention
	// removed while a Read was in progress.
	ErrOffsetOutOfRange = errors.New("eventlog: offset out of range")

	// ErrRecordTooLarge is returned for a record whose encoded size exceeds
	// Options.MaxRecordSize. Nothing is written.
	ErrRecordTooLarge = errors.New("eventlog: record too large")

	// ErrNoSpace is returned when the disk is full. The partition that met
	// it is fenced (see ErrFenced); nothing acknowledged is lost. Free space,
	// then Close and reopen the Log to append again.
	ErrNoSpace = errors.New("eventlog: no space left on device")

	// ErrFenced is returned by every append to a partition after a write or
	// fsync on it failed. What reached the disk is unknown until the Log is
	// closed and reopened, which cuts any partial write off; until then the
	// partition acknowledges nothing. The error also wraps the original
	// failure (and ErrNoSpace for a full disk).
	ErrFenced = errors.New("eventlog: partition fenced after a failed write")

	// ErrLocked is returned by Open when another Log, in this process or
	// another, holds the directory.
	ErrLocked = errors.New("eventlog: directory in use by another Log")

	// ErrRebalanced is returned by a Consumer's Commit, CommitOffsets,
	// Seek, SeekToTime, Pause and Resume for a partition the member does
	// not own at the time of the call: it was never assigned, or a
	// rebalance moved it to another member, or the member was evicted.
	// Nothing is changed, so a slow or departed member can never move a
	// group's committed offset over another member's work.
	ErrRebalanced = errors.New("eventlog: partition not owned by this member (rebalanced)")

	// ErrEvicted is returned by every call of a Consumer that its group
	// removed because it did not call Poll within
	// GroupOptions.MaxPollInterval, or did not give up a revoked partition
	// within GroupOptions.RebalanceTimeout. Its partitions have gone to
	// other members; records it polled but did not commit will be
	// delivered again. Commits of an evicted member also match
	// ErrRebalanced. Join again to rejoin the group.
	ErrEvicted = errors.New("eventlog: consumer evicted from its group")

	// ErrUnknownGroup is returned by DeleteGroup for a group that has no
	// members and no committed offsets, and by Join on a group that was
	// deleted.
	ErrUnknownGroup = errors.New("eventlog: unknown consumer group")

	// ErrGroupNotEmpty is returned by DeleteGroup for a group that still
	// has members. Nothing is changed.
	ErrGroupNotEmpty = errors.New("eventlog: consumer group has members")

	// ErrCorrupt reports stored data that fails its checksum or framing
	// anywhere but a torn tail (which Open repairs). Use errors.As with
	// *CorruptError to learn where.
	ErrCorrupt = errors.New("eventlog: corrupt data")
)

// CorruptError says where corrupt data was found. errors.Is(err, ErrCorrupt)
// reports true for it. Nothing is deleted or skipped to get past it: an
// operator decides what to do with the file it names.
type CorruptError struct {
	Topic     string
	Partition int
	File      string // segment file, relative to the log directory; "" if unknown
	Offset    int64  // first offset that could not be read; -1 if unknown
	Err       error  // what the decoder found, such as a checksum mismatch
}

// Error describes the corruption with its location.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("eventlog: corrupt data in %s/%d at offset %d (file %s): %v",
		e.Topic, e.Partition, e.Offset, e.File, e.Err)
}

// Unwrap returns the decoder's error.
func (e *CorruptError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCorrupt) true for every *CorruptError.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }
