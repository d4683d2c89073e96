// Package eventlog is an embeddable, append-only event log in the style of
// Apache Kafka: topics split into partitions, each partition a durable,
// ordered log of records (key, value, headers, time) on disk, with no broker
// to run.
//
// # Concepts
//
// A Log is a directory (or, for tests, memory) holding topics. A Topic has a
// fixed number of partitions. A Partition is an append-only sequence of
// records numbered by offset: 0-based, contiguous, assigned by the log,
// never reused, stable across restarts and retention.
//
// A Producer appends records. A keyed record goes to the partition Kafka's
// default partitioner would choose (murmur2 of the key), so keys land where
// a Kafka client would put them; records of one key therefore stay in order.
// Readers replay a partition with Partition.Read, from any offset, or follow
// it with Partition.Tail; Partition.OffsetForTime finds where to start from
// a time.
//
// # Consumer groups
//
// A ConsumerGroup (Log.ConsumerGroup) is Kafka's consumer group, in
// process: every group sees every record of its topics, and within a group
// each partition is owned by exactly one member (ConsumerGroup.Join) at a
// time. Consumer.Poll returns records of the member's partitions;
// Consumer.Commit records, durably, the next offset to read. Members
// joining or leaving rebalance the group cooperatively (KIP-429): a
// partition that moves is first given up by its old owner at its next Poll
// or Close (after GroupOptions.OnRevoked, where it may still commit) and
// only then taken by its new owner, which starts at the committed offset,
// so records polled but not committed are delivered again (at-least-once)
// and no partition is ever delivered by two members at once. A member that
// stops calling Poll for GroupOptions.MaxPollInterval is evicted; a commit
// by a member that no longer owns the partition fails with ErrRebalanced
// and changes nothing. ConsumerGroup.Run runs members with a handler.
//
// Committed offsets live in the internal topic __consumer_offsets (names
// starting with "__" are reserved), so they survive restarts and crashes
// once Commit returned. Group membership itself does not: after a restart
// members join again.
//
// # Durability
//
// Produce returns only once its record is durable under Options.Sync. The
// default, SyncAlways, fsyncs before acknowledging; concurrent producers share
// fsyncs (group commit). SyncInterval and SyncNever trade the records of the
// last moments before a machine crash for speed, and say so. Readers see a
// record only once it is durable under the policy in force.
//
// A crash at any moment leaves a log that opens: each stored batch carries a
// CRC32C, and Open cuts a write torn by a crash back to the last whole batch,
// with a warning. Damage anywhere else is a *CorruptError naming the topic,
// partition, file and offset: never a silent skip, never a panic. After a
// failed write or fsync a partition is fenced (ErrFenced) until the Log is
// reopened, so nothing is acknowledged that may not be on disk.
//
// # Concurrency
//
// Log, Topic, Partition, Producer and ConsumerGroup are safe for
// concurrent use; a Consumer is used by one goroutine at a time, except
// for its Close. Each
// partition has one writer goroutine; readers never block it. Every goroutine
// the Log starts is stopped and waited for by Log.Close.
//
// # Errors
//
// Errors are sentinel values (ErrUnknownTopic, ErrClosed, ErrRecordTooLarge,
// ...) wrapped with the topic, partition or offset involved; check them with
// errors.Is, and corruption with errors.As and *CorruptError.
package eventlog
