package eventlog_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventlog/eventlog"
)

// These tests damage a log's files the way crashes, disks and people do,
// then open it with the public API: a torn tail is cut and the log goes on;
// anything else is an error naming the file; nothing ever panics, skips
// records silently or returns bytes that were not written.

// TestOpenCutsTornTail tears the last write at every byte: Open must cut
// exactly the torn record, and the next record must go where it was.
func TestOpenCutsTornTail(t *testing.T) {
	dir := t.TempDir()
	l := openDir(t, dir, nil)
	produceN(t, l, "orders", 19)
	l.Close()
	seg := lastSegmentFile(t, dir, "orders", 0)
	before := fileSize(t, seg)

	l = openDir(t, dir, nil)
	produceN(t, l, "orders", 1) // offset 19, "v0"
	l.Close()
	if got := lastSegmentFile(t, dir, "orders", 0); got != seg {
		t.Fatalf("record 19 went to %s, not %s: the test needs it in the same file", got, seg)
	}
	after := fileSize(t, seg)
	rel, err := filepath.Rel(dir, seg)
	if err != nil {
		t.Fatal(err)
	}

	for cut := before; cut < after; cut++ {
		t.Run(fmt.Sprintf("cut=%d", cut), func(t *testing.T) {
			dir := copyDir(t, dir)
			if err := os.Truncate(filepath.Join(dir, rel), cut); err != nil {
				t.Fatal(err)
			}
			l, err := eventlog.Open(dir, nil)
			if err != nil {
				t.Fatalf("Open after a torn write: %v", err)
			}
			defer l.Close()
			part := partition(t, l, "orders", 0)
			if got := part.NextOffset(); got != 19 {
				t.Fatalf("NextOffset = %d, want 19: only the torn record may go", got)
			}
			if size := fileSize(t, filepath.Join(dir, rel)); size != before {
				t.Errorf("segment file has %d bytes after Open, want %d: the torn bytes cut", size, before)
			}
			p := newProducer(t, l, nil)
			rec, err := p.Produce(t.Context(), eventlog.Record{Topic: "orders", Value: []byte("after repair")})
			if err != nil || rec.Offset != 19 {
				t.Fatalf("Produce after repair = offset %d, %v; want 19, nil", rec.Offset, err)
			}
			checkOrders := func(l *eventlog.Log) {
				t.Helper()
				recs := readAll(t, partition(t, l, "orders", 0), 0)
				if !slices.Equal(offsets(recs), seq(0, 20)) {
					t.Fatalf("offsets %v, want 0..19", offsets(recs))
				}
				for i, r := range recs[:19] {
					if want := "v" + itoa(i); string(r.Value) != want {
						t.Errorf("record %d = %q, want %q", i, r.Value, want)
					}
				}
				if string(recs[19].Value) != "after repair" {
					t.Errorf("record 19 = %q, want %q", recs[19].Value, "after repair")
				}
			}
			checkOrders(l)
			// The record written after the repair survives a reopen: it was
			// not appended after leftover garbage.
			p.Close()
			l.Close()
			checkOrders(openDir(t, dir, nil))
		})
	}
}

// TestOpenCutsZeroFilledTail: a file extended but never written (4096 zero
// bytes after the last record, as a crash can leave on some file systems)
// is cut, and the records before it are intact.
func TestOpenCutsZeroFilledTail(t *testing.T) {
	dir := t.TempDir()
	l := openDir(t, dir, nil)
	produceN(t, l, "orders", 20)
	l.Close()
	seg := lastSegmentFile(t, dir, "orders", 0)
	size := fileSize(t, seg)
	appendToFile(t, seg, make([]byte, 4096))

	l = openDir(t, dir, nil)
	part := partition(t, l, "orders", 0)
	if got := part.NextOffset(); got != 20 {
		t.Fatalf("NextOffset after a zero-filled tail = %d, want 20", got)
	}
	if got := fileSize(t, seg); got != size {
		t.Errorf("segment file has %d bytes after Open, want %d: the zeros cut", got, size)
	}
	p := newProducer(t, l, nil)
	if rec, err := p.Produce(t.Context(), eventlog.Record{Topic: "orders", Value: []byte("v20")}); err != nil || rec.Offset != 20 {
		t.Fatalf("Produce after the cut = offset %d, %v; want 20, nil", rec.Offset, err)
	}
	p.Close()
	l.Close()
	l = openDir(t, dir, nil)
	recs := readAll(t, partition(t, l, "orders", 0), 0)
	if !slices.Equal(offsets(recs), seq(0, 21)) {
		t.Fatalf("offsets after reopen %v, want 0..20", offsets(recs))
	}
	for i, r := range recs {
		if want := "v" + itoa(i); string(r.Value) != want {
			t.Errorf("record %d = %q, want %q", i, r.Value, want)
		}
	}
}

// flipLog is a small log of many segment files, and everything about it
// that the bit-flip test compares with.
type flipLog struct {
	dir   string
	opts  *eventlog.Options
	want  []eventlog.Record // by offset
	files []string          // segment files, relative to dir, oldest first
	// The last entry written: in file lastFile at bytes [lastFrom, lastTo),
	// holding the records from offset lastOff on. Damage there looks like
	// a torn write and may be cut.
	lastFile         string
	lastFrom, lastTo int64
	lastOff          int64
}

// makeFlipLog writes a log of about 800 bytes in segment files of about
// 150 bytes: records with keys, headers and values of assorted sizes, some
// appended one per batch and some several to a batch.
func makeFlipLog(t *testing.T) *flipLog {
	t.Helper()
	f := &flipLog{dir: t.TempDir(), opts: &eventlog.Options{SegmentSize: 150}}
	l := openDir(t, f.dir, f.opts)
	createTopic(t, l, "flips", eventlog.TopicConfig{})
	p := newProducer(t, l, nil)
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	record := func(i int) eventlog.Record {
		r := eventlog.Record{Topic: "flips", Key: []byte("key-" + itoa(i%5)),
			Value: bytes.Repeat([]byte{byte('a' + i%26)}, 3+i*7%24), Time: at.Add(time.Duration(i) * time.Millisecond)}
		if i%3 == 0 {
			r.Headers = []eventlog.Header{{Key: "h", Value: []byte(itoa(i))}}
		}
		return r
	}
	produce := func(i int) {
		rec, err := p.Produce(t.Context(), record(i))
		if err != nil || rec.Offset != int64(i) {
			t.Fatalf("Produce(%d) = offset %d, %v", i, rec.Offset, err)
		}
		f.want = append(f.want, rec)
	}
	for i := range 8 {
		produce(i)
	}
	// Several records in one batch: ProduceAsync queues them while the
	// partition is busy with none, so they may share entries.
	async := make([]eventlog.Record, 5)
	errs := make(chan error, len(async))
	for i := range async {
		p.ProduceAsync(record(8+i), func(r eventlog.Record, err error) {
			async[i] = r
			errs <- err
		})
	}
	if err := p.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range async {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	f.want = append(f.want, async...)
	for i := 13; i < 17; i++ {
		produce(i)
	}
	l.Close()
	sizes := f.sizes(t)

	l = openDir(t, f.dir, f.opts)
	p = newProducer(t, l, nil)
	produce(17)
	l.Close()
	for name, size := range f.sizes(t) {
		if size > sizes[name] {
			f.lastFile, f.lastFrom, f.lastTo, f.lastOff = name, sizes[name], size, 17
		}
	}
	for _, name := range segmentFiles(t, f.dir, "flips", 0) {
		rel, _ := filepath.Rel(f.dir, name)
		f.files = append(f.files, rel)
	}
	if len(f.files) < 4 || f.lastFile == "" {
		t.Fatalf("want a log of several segment files and a last entry: files %v, last %q", f.files, f.lastFile)
	}
	return f
}

// sizes maps each segment file, relative to f.dir, to its size.
func (f *flipLog) sizes(t *testing.T) map[string]int64 {
	m := map[string]int64{}
	for _, name := range segmentFiles(t, f.dir, "flips", 0) {
		rel, _ := filepath.Rel(f.dir, name)
		m[rel] = fileSize(t, name)
	}
	return m
}

// TestBitFlipsNeverReturnWrongBytes flips one bit in every byte of every
// segment file of a small log, one byte at a time, and opens and reads the
// damaged copy. Each time, either Open or Read fails with a *CorruptError
// naming the topic, the partition and a segment file, or every record read
// is byte for byte the one written at that offset. A clean read may miss
// records only when the flip hit the last entry written, which is then
// indistinguishable from a torn write and cut.
func TestBitFlipsNeverReturnWrongBytes(t *testing.T) {
	f := makeFlipLog(t)
	scratch := copyDir(t, f.dir)
	orig := map[string][]byte{}
	for _, rel := range f.files {
		data, err := os.ReadFile(filepath.Join(f.dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		orig[rel] = data
	}
	// restore undoes a flip and whatever Open did about it (cut the last
	// file), file by file: cheaper than a fresh copy of the log each time.
	restore := func(flipped string) {
		t.Helper()
		got := dirSizes(t, scratch)
		for rel, data := range orig {
			if size, ok := got[rel]; !ok || size != int64(len(data)) || rel == flipped {
				if err := os.WriteFile(filepath.Join(scratch, rel), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		if len(got) != len(dirSizes(t, f.dir)) {
			t.Fatalf("after a flip in %s, the log's files are %v; want only %v and topic.json", flipped, got, f.files)
		}
	}
	var cases, openErrs, readErrs, cut int
	for fi, rel := range f.files {
		data := orig[rel]
		for pos := range data {
			bit := byte(1) << ((pos*5 + fi*3) % 8)
			what := fmt.Sprintf("%s byte %d ^= %#02x", rel, pos, bit)
			flipped := bytes.Clone(data)
			flipped[pos] ^= bit
			if err := os.WriteFile(filepath.Join(scratch, rel), flipped, 0o644); err != nil {
				t.Fatal(err)
			}
			cases++
			inLast := rel == f.lastFile && int64(pos) >= f.lastFrom && int64(pos) < f.lastTo
			switch f.openAndRead(t, scratch, what, inLast) {
			case "open error":
				openErrs++
			case "read error":
				readErrs++
			case "cut":
				cut++
			}
			restore(rel)
		}
	}
	t.Logf("%d flips in %d files: %d refused by Open, %d by Read, %d cut as a torn last entry, %d harmless",
		cases, len(f.files), openErrs, readErrs, cut, cases-openErrs-readErrs-cut)
}

// openAndRead opens the damaged copy in dir and reads all of it, checks
// what it got, and says how it ended: "open error", "read error", "cut"
// (a clean read that lost the last entry) or "" (a clean, complete read).
func (f *flipLog) openAndRead(t *testing.T, dir, what string, inLast bool) string {
	t.Helper()
	l, err := eventlog.Open(dir, f.opts)
	if err != nil {
		checkCorruptError(t, what+": Open", err, "flips", f.files)
		return "open error"
	}
	defer l.Close()
	part := partition(t, l, "flips", 0)
	first, next := part.FirstOffset(), part.NextOffset()
	var got []eventlog.Record
	var rerr error
	for rec, err := range part.Read(t.Context(), first) {
		if err != nil {
			rerr = err
			break
		}
		got = append(got, rec)
	}
	for i, rec := range got {
		switch {
		case rec.Offset != first+int64(i):
			t.Errorf("%s: Read(%d) yielded offset %d at step %d", what, first, rec.Offset, i)
		case rec.Offset < 0 || rec.Offset >= int64(len(f.want)):
			t.Errorf("%s: Read yielded offset %d, which was never written", what, rec.Offset)
		default:
			if want := f.want[rec.Offset]; !sameRecord(rec, want) {
				t.Errorf("%s: WRONG BYTES at offset %d:\n got %+v\nwant %+v", what, rec.Offset, rec, want)
			}
		}
	}
	if rerr != nil {
		checkCorruptError(t, what+": Read", rerr, "flips", f.files)
		return "read error"
	}
	switch {
	case first == 0 && next == int64(len(f.want)):
		return ""
	case inLast && first == 0 && next == f.lastOff:
		return "cut"
	}
	t.Errorf("%s: read offsets [%d, %d) without an error; want [0, %d)%s", what, first, next, len(f.want),
		map[bool]string{true: fmt.Sprintf(" or [0, %d) with the damaged last entry cut", f.lastOff)}[inLast])
	return ""
}

// sameRecord compares every field a reader sees.
func sameRecord(got, want eventlog.Record) bool {
	if !got.Time.Equal(want.Time) {
		return false
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	return reflect.DeepEqual(got, want)
}

// checkCorruptError checks that err is a *CorruptError that matches
// ErrCorrupt and names topic, partition 0 and one of files (relative to
// the log directory).
func checkCorruptError(t *testing.T, what string, err error, topic string, files []string) {
	t.Helper()
	var ce *eventlog.CorruptError
	switch {
	case !errors.As(err, &ce):
		t.Errorf("%s = %v; want a *CorruptError", what, err)
	case !errors.Is(err, eventlog.ErrCorrupt):
		t.Errorf("%s = %v; want errors.Is(err, ErrCorrupt)", what, err)
	case ce.Topic != topic || ce.Partition != 0 || !slices.Contains(files, ce.File):
		t.Errorf("%s = %+v; want topic %q, partition 0 and one of the files %v named", what, ce, topic, files)
	}
}

// strayLog writes a log of several segment files holding a few entries
// each and returns its directory and its files, relative to it.
func strayLog(t *testing.T) (dir string, files []string) {
	t.Helper()
	dir = t.TempDir()
	l := openDir(t, dir, &eventlog.Options{SegmentSize: 200})
	produceN(t, l, "orders", 40)
	l.Close()
	for _, name := range segmentFiles(t, dir, "orders", 0) {
		rel, _ := filepath.Rel(dir, name)
		files = append(files, rel)
	}
	if len(files) < 4 {
		t.Fatalf("want at least 4 segment files, have %v", files)
	}
	return dir, files
}

// walIndex returns the wal index a segment file is named after.
func walIndex(t *testing.T, rel string) uint64 {
	t.Helper()
	var i uint64
	if _, err := fmt.Sscanf(filepath.Base(rel), "%d", &i); err != nil {
		t.Fatal(err)
	}
	return i
}

func segName(rel string, index uint64) string {
	return filepath.Join(filepath.Dir(rel), fmt.Sprintf("%020d", index))
}

// TestStraySegmentFiles puts segment files where they do not belong: Open
// must refuse with a *CorruptError naming the file, never panic, and change
// nothing (removing the stray file gives back the whole log).
func TestStraySegmentFiles(t *testing.T) {
	src, files := strayLog(t)
	first, second, third := walIndex(t, files[0]), walIndex(t, files[1]), walIndex(t, files[2])
	last := walIndex(t, files[len(files)-1])
	if second-first < 2 || third-second < 2 {
		t.Fatalf("segment files %v: the test needs 2 or more entries in the first two", files)
	}
	copyFile := func(t *testing.T, dir, from, to string) {
		data, err := os.ReadFile(filepath.Join(dir, from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	remove := func(dir, name string) func() { return func() { os.Remove(filepath.Join(dir, name)) } }
	for _, tc := range []struct {
		name string
		// stray damages dir and returns the file the error must name
		// and how to undo the damage.
		stray func(t *testing.T, dir string) (blamed []string, undo func())
	}{
		{"old segment copied inside the range", func(t *testing.T, dir string) ([]string, func()) {
			name := segName(files[0], second+1) // between the second and third files
			copyFile(t, dir, files[0], name)
			return []string{name}, remove(dir, name)
		}},
		{"old segment copied past the end", func(t *testing.T, dir string) ([]string, func()) {
			name := segName(files[0], last+100)
			copyFile(t, dir, files[1], name)
			return []string{name}, remove(dir, name)
		}},
		{"last segment copied past the end", func(t *testing.T, dir string) ([]string, func()) {
			name := segName(files[0], last+1)
			copyFile(t, dir, files[len(files)-1], name)
			return []string{name}, remove(dir, name)
		}},
		{"newer segment copied inside the range", func(t *testing.T, dir string) ([]string, func()) {
			// Its offsets are higher than those of the real file after it,
			// which the order check meets first: the error must still
			// name the copy, and never call the real file stray.
			name := segName(files[0], first+1)
			copyFile(t, dir, files[2], name)
			return []string{name}, remove(dir, name)
		}},
		{"zero-length middle segment", func(t *testing.T, dir string) ([]string, func()) {
			name := files[1]
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(filepath.Join(dir, name), 0); err != nil {
				t.Fatal(err)
			}
			return []string{name}, func() { os.WriteFile(filepath.Join(dir, name), data, 0o644) }
		}},
		{"new empty file inside the range", func(t *testing.T, dir string) ([]string, func()) {
			name := segName(files[0], first+1)
			if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{name}, remove(dir, name)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, src)
			blamed, undo := tc.stray(t, dir)
			before := dirSizes(t, dir)
			l, err := eventlog.Open(dir, nil)
			if err == nil {
				l.Close()
				t.Fatalf("Open with a stray segment file %s succeeded; want a *CorruptError", blamed[0])
			}
			checkCorruptError(t, "Open", err, "orders", blamed)
			if !strings.Contains(err.Error(), filepath.Base(blamed[0])) {
				t.Errorf("Open = %v; want the stray file %s named", err, filepath.Base(blamed[0]))
			}
			for _, f := range files {
				if strings.Contains(err.Error(), filepath.Base(f)+" is a stray") {
					t.Errorf("Open = %v; calls the real file %s stray", err, filepath.Base(f))
				}
			}
			if after := dirSizes(t, dir); !reflect.DeepEqual(after, before) {
				t.Errorf("a refused Open changed the files:\nbefore %v\n after %v", before, after)
			}
			undo()
			l = openDir(t, dir, nil)
			recs := readAll(t, partition(t, l, "orders", 0), 0)
			if !slices.Equal(offsets(recs), seq(0, 40)) {
				t.Errorf("after removing the stray file: offsets %v, want 0..39", offsets(recs))
			}
		})
	}
}

// TestTopicMetadataDamage: topic.json is written atomically, so a torn or
// empty one is damage, not a crash; Open must refuse it with ErrCorrupt
// naming the file and delete nothing. A topic directory without topic.json
// and without records is what a crash inside CreateTopic leaves: Open
// removes it. One that holds records is damage again, and must not be
// removed with them.
func TestTopicMetadataDamage(t *testing.T) {
	src := t.TempDir()
	l := openDir(t, src, nil)
	produceN(t, l, "orders", 10)
	l.Close()
	meta := filepath.Join("topics", "orders", "topic.json")
	good, err := os.ReadFile(filepath.Join(src, meta))
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"torn", good[:len(good)/2]},
		{"empty", nil},
		{"zeros", make([]byte, len(good))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, src)
			if err := os.WriteFile(filepath.Join(dir, meta), tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			before := dirSizes(t, dir)
			l, err := eventlog.Open(dir, nil)
			if err == nil {
				l.Close()
				t.Fatalf("Open with a %s topic.json succeeded", tc.name)
			}
			if !errors.Is(err, eventlog.ErrCorrupt) || !strings.Contains(err.Error(), "topic.json") {
				t.Errorf("Open with a %s topic.json = %v; want ErrCorrupt naming topic.json", tc.name, err)
			}
			if after := dirSizes(t, dir); !reflect.DeepEqual(after, before) {
				t.Errorf("a refused Open changed the files:\nbefore %v\n after %v", before, after)
			}
			if err := os.WriteFile(filepath.Join(dir, meta), good, 0o644); err != nil {
				t.Fatal(err)
			}
			l = openDir(t, dir, nil)
			if got := readAll(t, partition(t, l, "orders", 0), 0); len(got) != 10 {
				t.Errorf("after restoring topic.json: %d records, want 10", len(got))
			}
		})
	}

	t.Run("creation cut short", func(t *testing.T) {
		dir := copyDir(t, src)
		// What a crash between CreateTopic's mkdir and its rename of
		// topic.json leaves: an empty directory, or one holding only the
		// temporary file.
		if err := os.Mkdir(filepath.Join(dir, "topics", "fresh"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "topics", "fresh", ".topic.json.tmp-123"), []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
		l := openDir(t, dir, nil)
		if got := l.Topics(); !slices.Equal(got, []string{"orders"}) {
			t.Errorf("Topics() = %v, want [orders]", got)
		}
		if _, err := os.Stat(filepath.Join(dir, "topics", "fresh")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the unfinished topic's directory is still there (%v)", err)
		}
		createTopic(t, l, "fresh", eventlog.TopicConfig{})
	})

	t.Run("records without topic.json", func(t *testing.T) {
		dir := copyDir(t, src)
		if err := os.Remove(filepath.Join(dir, meta)); err != nil {
			t.Fatal(err)
		}
		before := dirSizes(t, dir)
		l, err := eventlog.Open(dir, nil)
		if err == nil {
			l.Close()
		}
		if !errors.Is(err, eventlog.ErrCorrupt) || !strings.Contains(err.Error(), "orders") {
			t.Errorf("Open of a topic directory holding records but no topic.json = %v; want ErrCorrupt naming the topic", err)
		}
		if after := dirSizes(t, dir); !reflect.DeepEqual(after, before) {
			t.Errorf("Open changed the files of a topic without topic.json:\nbefore %v\n after %v", before, after)
		}
	})
}

// copyDir gives each subtest its own copy of the damaged log.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// lastSegmentFile returns the newest segment file of a partition.
func lastSegmentFile(t *testing.T, dir, topic string, part int) string {
	t.Helper()
	files := segmentFiles(t, dir, topic, part)
	return files[len(files)-1]
}

func appendToFile(t *testing.T, name string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// dirSizes maps every regular file under dir but the lock file to its
// size: what a refused Open must leave alone.
func dirSizes(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "LOCK" {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		m[rel] = info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
