package eventlog

// The assignor tests are in package eventlog because they also test
// checkAssignment, the validation the group runs on every Assignor result.
// Property tests use pgregory.net/rapid: a failure prints the seed; replay
// it with -rapid.seed=N (or the fail file it names).

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"
)

// tps parses "t0p1 t1p0 ..." into partitions, for compact tables.
func tps(t testing.TB, s string) []TopicPartition {
	t.Helper()
	var out []TopicPartition
	for _, f := range strings.Fields(s) {
		i := strings.LastIndexByte(f, 'p')
		var n int
		if _, err := fmt.Sscanf(f[i+1:], "%d", &n); i <= 0 || err != nil {
			t.Fatalf("bad partition %q", f)
		}
		out = append(out, TopicPartition{Topic: f[:i], Partition: n})
	}
	return out
}

// topicParts returns partitions 0..n-1 of each topic, n taken from counts.
func topicParts(counts map[string]int) []TopicPartition {
	var out []TopicPartition
	for _, topic := range slices.Sorted(maps.Keys(counts)) {
		for i := range counts[topic] {
			out = append(out, TopicPartition{Topic: topic, Partition: i})
		}
	}
	return out
}

// formatAssignment renders an assignment as "a: t0p0 t0p1; b: ..." with
// members sorted, listing members that own nothing too.
func formatAssignment(asg map[string][]TopicPartition) string {
	var b strings.Builder
	for k, m := range slices.Sorted(maps.Keys(asg)) {
		if k > 0 {
			b.WriteString("; ")
		}
		b.WriteString(m + ":")
		for _, p := range asg[m] {
			fmt.Fprintf(&b, " %sp%d", p.Topic, p.Partition)
		}
	}
	return b.String()
}

type assignCase struct {
	name       string
	members    []string
	partitions map[string]int
	current    map[string][]TopicPartition
	want       string // formatAssignment of the result
}

func runAssignCases(t *testing.T, a Assignor, cases []assignCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parts := topicParts(tc.partitions)
			got := a.Assign(tc.members, parts, tc.current)
			if err := checkAssignment(tc.members, parts, got); err != nil {
				t.Errorf("checkAssignment: %v", err)
			}
			if s := formatAssignment(got); s != tc.want {
				t.Errorf("Assign(%v, %v) =\n  %s\nwant\n  %s", tc.members, tc.partitions, s, tc.want)
			}
		})
	}
}

// Examples from the javadoc of Kafka's RangeAssignor, plus edge cases.
func TestRangeAssignorKafkaExamples(t *testing.T) {
	runAssignCases(t, RangeAssignor(), []assignCase{
		{
			name:       "kafka doc: 2 topics x 3 partitions, 2 members",
			members:    []string{"C0", "C1"},
			partitions: map[string]int{"t0": 3, "t1": 3},
			want:       "C0: t0p0 t0p1 t1p0 t1p1; C1: t0p2 t1p2",
		},
		{
			name:       "10 partitions, 3 members: first gets the extra",
			members:    []string{"C0", "C1", "C2"},
			partitions: map[string]int{"t": 10},
			want:       "C0: tp0 tp1 tp2 tp3; C1: tp4 tp5 tp6; C2: tp7 tp8 tp9",
		},
		{
			name:       "more members than partitions",
			members:    []string{"C0", "C1", "C2"},
			partitions: map[string]int{"t0": 2, "t1": 1},
			want:       "C0: t0p0 t1p0; C1: t0p1; C2:",
		},
		{
			name:       "current is ignored",
			members:    []string{"C0", "C1"},
			partitions: map[string]int{"t0": 2},
			current:    map[string][]TopicPartition{"C0": tps(t, "t0p1"), "C1": tps(t, "t0p0")},
			want:       "C0: t0p0; C1: t0p1",
		},
		{
			name:       "no partitions",
			members:    []string{"C0", "C1"},
			partitions: nil,
			want:       "C0:; C1:",
		},
	})
}

// Examples from the javadoc of Kafka's RoundRobinAssignor (with every member
// subscribed to every topic, as in a group here), plus edge cases.
func TestRoundRobinAssignorKafkaExamples(t *testing.T) {
	runAssignCases(t, RoundRobinAssignor(), []assignCase{
		{
			name:       "kafka doc: 2 topics x 3 partitions, 2 members",
			members:    []string{"C0", "C1"},
			partitions: map[string]int{"t0": 3, "t1": 3},
			want:       "C0: t0p0 t0p2 t1p1; C1: t0p1 t1p0 t1p2",
		},
		{
			name:       "3 topics of 1, 2, 3 partitions, 3 members",
			members:    []string{"C0", "C1", "C2"},
			partitions: map[string]int{"t0": 1, "t1": 2, "t2": 3},
			want:       "C0: t0p0 t2p0; C1: t1p0 t2p1; C2: t1p1 t2p2",
		},
		{
			name:       "more members than partitions",
			members:    []string{"C0", "C1", "C2"},
			partitions: map[string]int{"t0": 2},
			want:       "C0: t0p0; C1: t0p1; C2:",
		},
	})
}

// The example of the javadoc of Kafka's StickyAssignor: three members share
// four topics of two partitions; when C1 leaves, C0 and C2 keep everything
// they had. (Kafka's own tie-breaks put t0p1, t2p0 and t3p1 elsewhere; ours
// are deterministic and just as sticky.)
func TestStickyAssignorKafkaExamples(t *testing.T) {
	parts := map[string]int{"t0": 2, "t1": 2, "t2": 2, "t3": 2}
	runAssignCases(t, StickyAssignor(), []assignCase{
		{
			name:       "kafka doc: first assignment is round-robin",
			members:    []string{"C0", "C1", "C2"},
			partitions: parts,
			want:       "C0: t0p0 t1p1 t3p0; C1: t0p1 t2p0 t3p1; C2: t1p0 t2p1",
		},
		{
			name:       "kafka doc: C1 leaves, C0 and C2 keep theirs",
			members:    []string{"C0", "C2"},
			partitions: parts,
			current: map[string][]TopicPartition{
				"C0": tps(t, "t0p0 t1p1 t3p0"),
				"C2": tps(t, "t1p0 t2p1"),
			},
			want: "C0: t0p0 t0p1 t1p1 t3p0; C2: t1p0 t2p0 t2p1 t3p1",
		},
		{
			name:       "a member joins: each gives up its highest partition",
			members:    []string{"a", "b", "c"},
			partitions: map[string]int{"t": 6},
			current:    map[string][]TopicPartition{"a": tps(t, "tp0 tp2 tp4"), "b": tps(t, "tp1 tp3 tp5")},
			want:       "a: tp0 tp2; b: tp1 tp3; c: tp4 tp5",
		},
		{
			name:       "the extra partition stays with the member that has it",
			members:    []string{"a", "b"},
			partitions: map[string]int{"t": 3},
			current:    map[string][]TopicPartition{"b": tps(t, "tp0 tp1 tp2")},
			want:       "a: tp2; b: tp0 tp1",
		},
		{
			name:       "new partitions go to the members below their share",
			members:    []string{"a", "b"},
			partitions: map[string]int{"t": 4, "u": 2},
			current:    map[string][]TopicPartition{"a": tps(t, "tp0 tp1 tp2"), "b": tps(t, "tp3")},
			want:       "a: tp0 tp1 tp2; b: tp3 up0 up1",
		},
		{
			name:       "unknown partitions and members in current are ignored",
			members:    []string{"a", "b"},
			partitions: map[string]int{"t": 2},
			current:    map[string][]TopicPartition{"a": tps(t, "tp1 tp7 gonep0"), "gone": tps(t, "tp0")},
			want:       "a: tp1; b: tp0",
		},
		{
			name:       "a partition current gives twice counts for the first member",
			members:    []string{"a", "b"},
			partitions: map[string]int{"t": 2},
			current:    map[string][]TopicPartition{"a": tps(t, "tp1"), "b": tps(t, "tp1")},
			want:       "a: tp1; b: tp0",
		},
	})
}

func TestCheckAssignment(t *testing.T) {
	members := []string{"a", "b"}
	parts := tps(t, "tp0 tp1 up0")
	for _, tc := range []struct {
		name string
		got  map[string][]TopicPartition
		want string // substring of the error; "" for none
	}{
		{"valid", map[string][]TopicPartition{"a": tps(t, "tp0 up0"), "b": tps(t, "tp1")}, ""},
		{"valid, member owns nothing", map[string][]TopicPartition{"a": tps(t, "tp0 tp1 up0")}, ""},
		{"valid, member has empty list", map[string][]TopicPartition{"a": tps(t, "tp0 tp1 up0"), "b": nil}, ""},
		{"assigned twice", map[string][]TopicPartition{"a": tps(t, "tp0 tp1"), "b": tps(t, "tp1 up0")}, `partition t/1 assigned to both "a" and "b"`},
		{"assigned twice to one member", map[string][]TopicPartition{"a": tps(t, "tp0 tp0 tp1 up0")}, `partition t/0 assigned to both "a" and "a"`},
		{"never assigned", map[string][]TopicPartition{"a": tps(t, "tp0"), "b": tps(t, "tp1")}, "partition u/0 assigned to no member"},
		{"nothing assigned", nil, "partition t/0 assigned to no member"},
		{"unknown member", map[string][]TopicPartition{"a": tps(t, "tp0 tp1"), "c": tps(t, "up0")}, `partitions assigned to "c", not a member`},
		{"unknown partition", map[string][]TopicPartition{"a": tps(t, "tp0 tp1 up0"), "b": tps(t, "tp2")}, "unknown partition t/2 assigned to \"b\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkAssignment(members, parts, tc.got)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("checkAssignment(%s) = %v; want nil", formatAssignment(tc.got), err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("checkAssignment(%s) = %v; want an error containing %q", formatAssignment(tc.got), err, tc.want)
			case tc.want != "" && !errors.Is(err, errInvalidAssignment):
				t.Errorf("checkAssignment(%s) = %v; want it to wrap errInvalidAssignment", formatAssignment(tc.got), err)
			}
		})
	}
}

var assignors = []struct {
	name string
	a    Assignor
}{
	{"Range", RangeAssignor()},
	{"RoundRobin", RoundRobinAssignor()},
	{"Sticky", StickyAssignor()},
}

// memberPool is where generated members come from. Members that are not
// chosen play departed members in current.
var memberPool = []string{"m00", "m01", "m02", "m03", "m04", "m05", "m06", "m07", "m08", "m09", "m10", "m11"}

// genMembers draws a sorted, non-empty set of members.
func genMembers(t *rapid.T, label string) []string {
	ms := rapid.SliceOfNDistinct(rapid.SampledFrom(memberPool), 1, len(memberPool), rapid.ID).Draw(t, label)
	slices.Sort(ms)
	return ms
}

// genTopics draws 0 to 4 topics of 1 to 30 partitions.
func genTopics(t *rapid.T, label string) map[string]int {
	return rapid.MapOfN(rapid.SampledFrom([]string{"a", "b", "c", "d"}), rapid.IntRange(1, 30), 0, 4).Draw(t, label)
}

// genCurrent draws an arbitrary present assignment: each partition owned by
// a member, a departed member or no one, plus partitions that no longer
// exist. Nothing is owned twice; counts are not balanced.
func genCurrent(t *rapid.T, members []string, parts []TopicPartition) map[string][]TopicPartition {
	cur := make(map[string][]TopicPartition)
	owners := append(slices.Clone(memberPool), "") // "": no one
	for _, p := range parts {
		if o := rapid.SampledFrom(owners).Draw(t, "owner"); o != "" {
			cur[o] = append(cur[o], p)
		}
	}
	for range rapid.IntRange(0, 3).Draw(t, "stale") {
		o := rapid.SampledFrom(members).Draw(t, "stale owner")
		cur[o] = append(cur[o], TopicPartition{Topic: "gone", Partition: rapid.IntRange(0, 5).Draw(t, "stale partition")})
	}
	for m := range cur { // departed members are absent, as the contract says
		if !slices.Contains(members, m) {
			delete(cur, m)
		}
	}
	return cur
}

func cloneAssignment(a map[string][]TopicPartition) map[string][]TopicPartition {
	if a == nil {
		return nil
	}
	out := make(map[string][]TopicPartition, len(a))
	for m, ps := range a {
		out[m] = slices.Clone(ps)
	}
	return out
}

// checkValid fails t unless got is a valid result of Assign(members, parts):
// every partition exactly once, only known members, every member present,
// each list sorted.
func checkValid(t *rapid.T, members []string, parts []TopicPartition, got map[string][]TopicPartition) {
	t.Helper()
	if err := checkAssignment(members, parts, got); err != nil {
		t.Fatalf("invalid assignment %s: %v", formatAssignment(got), err)
	}
	for _, m := range members {
		ps, ok := got[m]
		if !ok {
			t.Fatalf("member %q missing from result %s", m, formatAssignment(got))
		}
		if !slices.IsSortedFunc(ps, compareTopicPartitions) {
			t.Fatalf("member %q's partitions %v are not sorted", m, ps)
		}
	}
}

// checkBalanced fails t unless members' counts differ by at most one.
func checkBalanced(t *rapid.T, members []string, got map[string][]TopicPartition) {
	t.Helper()
	lo, hi := len(got[members[0]]), len(got[members[0]])
	for _, m := range members {
		lo, hi = min(lo, len(got[m])), max(hi, len(got[m]))
	}
	if hi-lo > 1 {
		t.Fatalf("unbalanced: counts from %d to %d in %s", lo, hi, formatAssignment(got))
	}
}

// Every assignor, for any members, partitions and current assignment,
// assigns each partition exactly once to a known member, is deterministic,
// does not modify its arguments, and does not depend on their order.
func TestAssignorProperties(t *testing.T) {
	for _, as := range assignors {
		t.Run(as.name, func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				members := genMembers(t, "members")
				parts := topicParts(genTopics(t, "topics"))
				current := genCurrent(t, members, parts)
				membersCopy, partsCopy, currentCopy := slices.Clone(members), slices.Clone(parts), cloneAssignment(current)

				got := as.a.Assign(members, parts, current)
				checkValid(t, members, parts, got)
				if !slices.Equal(members, membersCopy) || !slices.Equal(parts, partsCopy) || !reflect.DeepEqual(current, currentCopy) {
					t.Fatalf("Assign modified its arguments")
				}

				// The caller owns the result: changing it must not reach
				// into the arguments or later results.
				want := formatAssignment(got)
				for _, ps := range got {
					for i := range ps {
						ps[i].Partition = -1
					}
				}
				if !slices.Equal(parts, partsCopy) || !reflect.DeepEqual(current, currentCopy) {
					t.Fatalf("Assign's result shares memory with its arguments")
				}

				again := as.a.Assign(membersCopy, partsCopy, currentCopy)
				if s := formatAssignment(again); s != want {
					t.Fatalf("not deterministic:\n first %s\nsecond %s", want, s)
				}

				shuffledMembers := rapid.Permutation(membersCopy).Draw(t, "shuffled members")
				shuffledParts := rapid.Permutation(partsCopy).Draw(t, "shuffled partitions")
				shuffledCurrent := cloneAssignment(currentCopy)
				for m, ps := range shuffledCurrent {
					shuffledCurrent[m] = rapid.Permutation(ps).Draw(t, "shuffled current")
				}
				if s := formatAssignment(as.a.Assign(shuffledMembers, shuffledParts, shuffledCurrent)); s != want {
					t.Fatalf("depends on input order:\nsorted   %s\nshuffled %s", want, s)
				}
			})
		})
	}
}

// RangeAssignor splits each topic into contiguous ranges, one per member in
// order, the first (n mod members) one partition larger.
func TestRangeAssignorProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		members := genMembers(t, "members")
		topics := genTopics(t, "topics")
		parts := topicParts(topics)
		got := RangeAssignor().Assign(members, parts, nil)
		checkValid(t, members, parts, got)
		for topic, n := range topics {
			next := 0
			for i, m := range members {
				var mine []int
				for _, p := range got[m] {
					if p.Topic == topic {
						mine = append(mine, p.Partition)
					}
				}
				want := n / len(members)
				if i < n%len(members) {
					want++
				}
				if len(mine) != want {
					t.Fatalf("topic %s of %d partitions: member #%d %s owns %v; want %d", topic, n, i, m, mine, want)
				}
				for _, p := range mine {
					if p != next {
						t.Fatalf("topic %s: %s owns %v; want a range from %d", topic, m, mine, next)
					}
					next++
				}
			}
		}
	})
}

// RoundRobinAssignor is balanced.
func TestRoundRobinAssignorBalanced(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		members := genMembers(t, "members")
		parts := topicParts(genTopics(t, "topics"))
		got := RoundRobinAssignor().Assign(members, parts, nil)
		checkValid(t, members, parts, got)
		checkBalanced(t, members, got)
	})
}

// checkSticky fails t unless got keeps as many partitions of current with
// their owners as any balanced assignment can, and every member at or below
// its fair share keeps all it has. current must own nothing twice.
func checkSticky(t *rapid.T, members []string, parts []TopicPartition, current, got map[string][]TopicPartition) {
	t.Helper()
	exists := make(map[TopicPartition]bool, len(parts))
	for _, p := range parts {
		exists[p] = true
	}
	q, r := len(parts)/len(members), len(parts)%len(members)
	var counts []int
	kept := 0
	for _, m := range members {
		var had []TopicPartition
		for _, p := range current[m] {
			if exists[p] {
				had = append(had, p)
			}
		}
		counts = append(counts, len(had))
		for _, p := range had {
			if slices.Contains(got[m], p) {
				kept++
			} else if len(had) <= q {
				t.Fatalf("%s had %d partitions, within its fair share %d, yet lost %v:\ncurrent %s\n    got %s",
					m, len(had), q, p, formatAssignment(current), formatAssignment(got))
			}
		}
	}
	// The best any balanced assignment can do: r members may keep up to
	// q+1, the others up to q, and the r largest holdings gain most from
	// the larger allowance.
	slices.SortFunc(counts, func(a, b int) int { return b - a })
	best := 0
	for k, c := range counts {
		if k < r {
			best += min(c, q+1)
		} else {
			best += min(c, q)
		}
	}
	if kept != best {
		t.Fatalf("kept %d partitions with their owners; a balanced assignment can keep %d:\ncurrent %s\n    got %s",
			kept, best, formatAssignment(current), formatAssignment(got))
	}
}

// StickyAssignor is balanced and moves as few partitions as balance allows,
// from any current assignment.
func TestStickyAssignorFromAnyCurrent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		members := genMembers(t, "members")
		parts := topicParts(genTopics(t, "topics"))
		current := genCurrent(t, members, parts)
		got := StickyAssignor().Assign(members, parts, current)
		checkValid(t, members, parts, got)
		checkBalanced(t, members, got)
		checkSticky(t, members, parts, current, got)
	})
}

// StickyAssignor through a history of rebalances, as a group calls it:
// members join and leave, topics grow or go, and each result becomes the
// next current assignment (without departed members). Each step is
// balanced and minimal, and rebalancing with nothing changed moves nothing.
func TestStickyAssignorRebalances(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := StickyAssignor()
		members := genMembers(t, "members")
		topics := genTopics(t, "topics")
		parts := topicParts(topics)
		current := a.Assign(members, parts, nil)
		checkValid(t, members, parts, current)
		checkBalanced(t, members, current)

		for range rapid.IntRange(1, 6).Draw(t, "steps") {
			switch rapid.IntRange(0, 4).Draw(t, "change") {
			case 0, 1: // a member joins
				if m := rapid.SampledFrom(memberPool).Draw(t, "join"); !slices.Contains(members, m) {
					members = append(members, m)
					slices.Sort(members)
				}
			case 2, 3: // a member leaves
				if len(members) > 1 {
					i := rapid.IntRange(0, len(members)-1).Draw(t, "leave")
					delete(current, members[i])
					members = slices.Delete(members, i, i+1)
				}
			case 4: // a topic is created, grows, or is deleted
				topic := rapid.SampledFrom([]string{"a", "b", "c", "d"}).Draw(t, "topic")
				if n := rapid.IntRange(0, 10).Draw(t, "new partitions"); n == 0 {
					delete(topics, topic)
				} else {
					topics[topic] += n
				}
				parts = topicParts(topics)
			}
			next := a.Assign(members, parts, current)
			checkValid(t, members, parts, next)
			checkBalanced(t, members, next)
			checkSticky(t, members, parts, current, next)

			if same := a.Assign(members, parts, next); !reflect.DeepEqual(same, next) {
				t.Fatalf("rebalance without changes moved partitions:\nbefore %s\n after %s",
					formatAssignment(next), formatAssignment(same))
			}
			current = next
		}
	})
}

// One Assignor value serves many groups at once (run with -race).
func TestAssignorsConcurrentUse(t *testing.T) {
	members := []string{"a", "b", "c"}
	parts := topicParts(map[string]int{"t": 7, "u": 5})
	current := map[string][]TopicPartition{"a": parts[:6], "b": parts[6:8]}
	for _, as := range assignors {
		want := formatAssignment(as.a.Assign(members, parts, current))
		results := make([]string, 8)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() { results[i] = formatAssignment(as.a.Assign(members, parts, current)) })
		}
		wg.Wait()
		for i, got := range results {
			if got != want {
				t.Errorf("%s: goroutine %d got %s; want %s", as.name, i, got, want)
			}
		}
	}
}

// BenchmarkStickyAssignor rebalances 1000 partitions (10 topics of 100)
// among 100 members: from scratch, with nothing changed, after one member
// joins, and after one leaves.
func BenchmarkStickyAssignor(b *testing.B) {
	counts := make(map[string]int)
	for i := range 10 {
		counts[fmt.Sprintf("topic-%d", i)] = 100
	}
	parts := topicParts(counts)
	var members []string
	for i := range 101 {
		members = append(members, fmt.Sprintf("member-%03d", i))
	}
	a := StickyAssignor()
	hundred := members[:100]
	steady := a.Assign(hundred, parts, nil)
	left := cloneAssignment(steady)
	delete(left, hundred[42])
	withoutOne := slices.Delete(slices.Clone(hundred), 42, 43)

	for _, bc := range []struct {
		name    string
		members []string
		current map[string][]TopicPartition
	}{
		{"first", hundred, nil},
		{"unchanged", hundred, steady},
		{"join", members, steady},
		{"leave", withoutOne, left},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a.Assign(bc.members, parts, bc.current)
			}
		})
	}
}

// A group of two members over a topic of six partitions; a third joins,
// then the first leaves. Each rebalance moves only what balance requires.
func ExampleStickyAssignor() {
	var orders []TopicPartition
	for i := range 6 {
		orders = append(orders, TopicPartition{Topic: "orders", Partition: i})
	}
	show := func(asg map[string][]TopicPartition) {
		for _, m := range slices.Sorted(maps.Keys(asg)) {
			fmt.Printf("%s:", m)
			for _, p := range asg[m] {
				fmt.Printf(" %d", p.Partition)
			}
			fmt.Println()
		}
		fmt.Println("--")
	}

	a := StickyAssignor()
	asg := a.Assign([]string{"a", "b"}, orders, nil)
	show(asg)

	// c joins: a and b each give up one partition to it, and keep the rest.
	asg = a.Assign([]string{"a", "b", "c"}, orders, asg)
	show(asg)

	// a leaves: its partitions go to b and c, which keep theirs.
	delete(asg, "a")
	asg = a.Assign([]string{"b", "c"}, orders, asg)
	show(asg)
	// Output:
	// a: 0 2 4
	// b: 1 3 5
	// --
	// a: 0 2
	// b: 1 3
	// c: 4 5
	// --
	// b: 0 1 3
	// c: 2 4 5
	// --
}
