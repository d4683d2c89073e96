package eventlog

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// TopicPartition names one partition of a topic. It is a comparable
// value, usable as a map key; its zero value names no partition.
type TopicPartition struct {
	Topic     string
	Partition int
}

// compareTopicPartitions orders partitions by topic, then number: the order
// in which an Assignor is given them and returns them.
func compareTopicPartitions(a, b TopicPartition) int {
	if c := cmp.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	return cmp.Compare(a.Partition, b.Partition)
}

// An Assignor decides which member of a consumer group owns each partition
// of the group's topics. The group calls Assign at every rebalance, that is
// whenever a member joins or leaves or the group's partitions change.
//
// Concurrency: a group calls Assign from one goroutine at a time, but one
// Assignor value may serve many groups at once, so Assign must be safe for
// concurrent use. It should return promptly: it runs while the group is
// rebalancing, and it takes no context because it must not block.
//
// Ownership: Assign must not modify members, partitions, current or the
// slices in current, and must not keep any of them after it returns. The
// group owns the returned map and its slices; they must not share memory
// with the arguments.
//
// Result: Assign must be deterministic: the same arguments give the same
// result. When members is non-empty, the result must assign every partition
// in partitions to exactly one member of members, and nothing else. The
// group checks every result and rejects an invalid one (a partition
// assigned twice or never, an unknown member or an unknown partition) with
// an error instead of applying it. Members that own nothing may be absent
// from the result or map to an empty slice. The group does not retry: the
// same input would give the same result.
//
// RangeAssignor, RoundRobinAssignor and StickyAssignor are provided;
// StickyAssignor is the default, because cooperative rebalancing moves only
// the partitions whose owner changes, and a sticky assignor changes few.
type Assignor interface {
	// Assign returns the partitions each member should own. members is
	// sorted and non-empty; partitions is sorted by topic, then number;
	// current holds each member's present assignment (members that just
	// joined have none; partitions of departed members are absent).
	Assign(members []string, partitions []TopicPartition, current map[string][]TopicPartition) map[string][]TopicPartition
}

var (
	_ Assignor = rangeAssignor{}
	_ Assignor = roundRobinAssignor{}
	_ Assignor = stickyAssignor{}
)

// RangeAssignor returns the Assignor of Kafka's RangeAssignor. Topic by
// topic, it splits the topic's partitions into contiguous ranges, one per
// member in sorted order; when the partitions do not divide evenly, the
// first (partitions mod members) members get one more. For two members and
// two topics t0 and t1 of three partitions each, member 0 gets t0p0, t0p1,
// t1p0 and t1p1, and member 1 gets t0p2 and t1p2.
//
// Topics with the same number of partitions (co-partitioned topics) have
// the same partition numbers on the same member, which suits joining them.
// But the first members get more in total when the split is uneven, and it
// ignores the current assignment. It is stateless and safe for concurrent use;
// every member has an entry in its result.
func RangeAssignor() Assignor { return rangeAssignor{} }

type rangeAssignor struct{}

// Assign implements Assignor.
func (rangeAssignor) Assign(members []string, partitions []TopicPartition, _ map[string][]TopicPartition) map[string][]TopicPartition {
	members, partitions = sortedInput(members, partitions)
	out := make(map[string][]TopicPartition, len(members))
	for _, m := range members {
		out[m] = nil
	}
	if len(members) == 0 {
		return out
	}
	for start := 0; start < len(partitions); {
		end := start + 1
		for end < len(partitions) && partitions[end].Topic == partitions[start].Topic {
			end++
		}
		topic := partitions[start:end]
		per, extra := len(topic)/len(members), len(topic)%len(members)
		lo := 0
		for i, m := range members {
			n := per
			if i < extra {
				n++
			}
			out[m] = append(out[m], topic[lo:lo+n]...)
			lo += n
		}
		start = end
	}
	return out
}

// RoundRobinAssignor returns the Assignor of Kafka's RoundRobinAssignor.
// It deals all partitions, sorted by topic and then number, to the members
// in sorted order, one at a time, like cards. For two members and two
// topics t0 and t1 of three partitions each, member 0 gets t0p0, t0p2 and
// t1p1, and member 1 gets t0p1, t1p0 and t1p2.
//
// Members' counts differ by at most one, but it ignores the current
// assignment, so one member joining or leaving moves most partitions. It is
// stateless and safe for concurrent use; every member has an entry in its
// result.
func RoundRobinAssignor() Assignor { return roundRobinAssignor{} }

type roundRobinAssignor struct{}

// Assign implements Assignor.
func (roundRobinAssignor) Assign(members []string, partitions []TopicPartition, _ map[string][]TopicPartition) map[string][]TopicPartition {
	members, partitions = sortedInput(members, partitions)
	out := make(map[string][]TopicPartition, len(members))
	if len(members) == 0 {
		return out
	}
	per := len(partitions)/len(members) + 1
	for _, m := range members {
		out[m] = make([]TopicPartition, 0, per)
	}
	for i, p := range partitions {
		m := members[i%len(members)]
		out[m] = append(out[m], p)
	}
	return out
}

// StickyAssignor returns a balanced Assignor that moves as few partitions
// as it can. It is the default of a consumer group, because cooperative
// rebalancing revokes only the partitions that change owner, and the
// others keep flowing.
//
// With P partitions and M members, M-(P mod M) members get P/M partitions
// and the other P mod M get one more, so counts differ by at most one.
// Within that bound it keeps as many partitions with their current owners
// as any balanced assignment can:
//   - the extra partitions go to the members that currently own the most
//     (ties to the member that sorts first);
//   - a member keeps its current partitions up to its share, giving up its
//     highest-numbered ones beyond it, so a member at or below P/M keeps
//     everything it has;
//   - partitions without an owner (new ones, those of departed members,
//     and those given up) are dealt in sorted order, round-robin, to the
//     members below their share.
//
// So when nothing changes, nothing moves, and a first assignment equals
// RoundRobinAssignor's. Entries of current for unknown members or
// partitions are ignored, and a partition that current gives to two
// members counts as owned by the one that sorts first. The result depends only on
// its arguments. It is stateless and safe for concurrent use; every member
// has an entry in its result.
func StickyAssignor() Assignor { return stickyAssignor{} }

type stickyAssignor struct{}

// Assign implements Assignor.
func (stickyAssignor) Assign(members []string, partitions []TopicPartition, current map[string][]TopicPartition) map[string][]TopicPartition {
	members, partitions = sortedInput(members, partitions)
	out := make(map[string][]TopicPartition, len(members))
	if len(members) == 0 {
		return out
	}

	// Work with indexes: partition i is partitions[i], member j is members[j].
	index := make(map[TopicPartition]int, len(partitions))
	for i, p := range partitions {
		index[p] = i
	}
	const free = -1
	owner := make([]int, len(partitions))
	for i := range owner {
		owner[i] = free
	}
	held := make([][]int, len(members)) // each member's current partitions, ascending
	for j, m := range members {
		for _, p := range current[m] {
			if i, ok := index[p]; ok && owner[i] == free {
				owner[i] = j
				held[j] = append(held[j], i)
			}
		}
		slices.Sort(held[j])
	}

	// Shares: everyone gets q; the r members that hold the most get q+1.
	// Member j can keep at most min(len(held[j]), share[j]) partitions, so
	// giving the larger shares to the largest holdings keeps the most.
	q, r := len(partitions)/len(members), len(partitions)%len(members)
	byHeld := make([]int, len(members))
	for j := range byHeld {
		byHeld[j] = j
	}
	slices.SortStableFunc(byHeld, func(a, b int) int { return cmp.Compare(len(held[b]), len(held[a])) })
	share := make([]int, len(members))
	for k, j := range byHeld {
		share[j] = q
		if k < r {
			share[j]++
		}
	}

	// Give up what is beyond the share, highest-numbered first.
	for j := range members {
		if len(held[j]) > share[j] {
			for _, i := range held[j][share[j]:] {
				owner[i] = free
			}
			held[j] = held[j][:share[j]]
		}
	}

	// Deal the free partitions round-robin to the members below their share.
	// Their shortfalls add up to the number of free partitions.
	var below []int
	for j := range members {
		if len(held[j]) < share[j] {
			below = append(below, j)
		}
	}
	k := 0
	for i := range partitions {
		if owner[i] != free {
			continue
		}
		j := below[k]
		owner[i] = j
		held[j] = append(held[j], i)
		if len(held[j]) == share[j] {
			below = slices.Delete(below, k, k+1)
		} else {
			k++
		}
		if k >= len(below) {
			k = 0
		}
	}

	for j, m := range members {
		slices.Sort(held[j])
		ps := make([]TopicPartition, len(held[j]))
		for n, i := range held[j] {
			ps[n] = partitions[i]
		}
		out[m] = ps
	}
	return out
}

// sortedInput returns members and partitions sorted and without
// duplicates. They normally are already, and are then returned as they
// are; otherwise the result is a sorted copy, so the caller's slices are
// never modified.
func sortedInput(members []string, partitions []TopicPartition) ([]string, []TopicPartition) {
	if !isStrictlySorted(members, cmp.Compare[string]) {
		members = slices.Compact(slices.Sorted(slices.Values(members)))
	}
	if !isStrictlySorted(partitions, compareTopicPartitions) {
		partitions = slices.Clone(partitions)
		slices.SortFunc(partitions, compareTopicPartitions)
		partitions = slices.Compact(partitions)
	}
	return members, partitions
}

func isStrictlySorted[E any](s []E, compare func(a, b E) int) bool {
	for i := 1; i < len(s); i++ {
		if compare(s[i-1], s[i]) >= 0 {
			return false
		}
	}
	return true
}

// errInvalidAssignment is wrapped by the errors of checkAssignment.
var errInvalidAssignment = errors.New("eventlog: invalid assignment")

// checkAssignment reports whether got, an Assignor's result, assigns every
// partition in partitions to exactly one member of members. It returns nil
// or an error wrapping errInvalidAssignment that names the first problem
// found: a member that is not in members, a partition that is not in
// partitions, a partition assigned twice, or a partition assigned to no one.
// Members are checked in sorted order, so the error is deterministic.
func checkAssignment(members []string, partitions []TopicPartition, got map[string][]TopicPartition) error {
	known := make(map[string]bool, len(members))
	for _, m := range members {
		known[m] = true
	}
	owner := make(map[TopicPartition]string, len(partitions))
	assigned := make(map[TopicPartition]bool, len(partitions))
	for _, p := range partitions {
		owner[p] = ""
	}
	for _, m := range slices.Sorted(maps.Keys(got)) {
		if !known[m] {
			return fmt.Errorf("partitions assigned to %q, not a member: %w", m, errInvalidAssignment)
		}
		for _, p := range got[m] {
			prev, ok := owner[p]
			switch {
			case !ok:
				return fmt.Errorf("unknown partition %s/%d assigned to %q: %w", p.Topic, p.Partition, m, errInvalidAssignment)
			case assigned[p]:
				return fmt.Errorf("partition %s/%d assigned to both %q and %q: %w", p.Topic, p.Partition, prev, m, errInvalidAssignment)
			}
			owner[p] = m
			assigned[p] = true
		}
	}
	for _, p := range partitions {
		if !assigned[p] {
			return fmt.Errorf("partition %s/%d assigned to no member: %w", p.Topic, p.Partition, errInvalidAssignment)
		}
	}
	return nil
}
