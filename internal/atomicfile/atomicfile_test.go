package atomicfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/eventlog/eventlog/internal/atomicfile"
)

// names lists dir's entries, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteFileCreates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "meta.json")
	if err := atomicfile.WriteFile(path, []byte(`{"v":1}`), 0o600); err != nil {
		t.Fatalf("WriteFile = %v; want nil", err)
	}
	if got, want := readFile(t, path), `{"v":1}`; got != want {
		t.Errorf("content = %q; want %q", got, want)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"meta.json"}) {
		t.Errorf("directory holds %q; want only meta.json, no temporary file", got)
	}
}

func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "meta")
	// The old content is longer, so an in-place write that forgot to
	// truncate would leave its tail behind.
	if err := os.WriteFile(path, []byte("old content, longer than the new"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"new", "newer", ""} {
		if err := atomicfile.WriteFile(path, []byte(v), 0o644); err != nil {
			t.Fatalf("WriteFile(%q) = %v; want nil", v, err)
		}
		if got := readFile(t, path); got != v {
			t.Errorf("content after WriteFile(%q) = %q; want %q", v, got, v)
		}
	}
	if got := names(t, dir); !slices.Equal(got, []string{"meta"}) {
		t.Errorf("directory holds %q; want only meta, no temporary file", got)
	}
}

// TestWriteFileIsANewFile checks the replacement is a rename, not a write
// into the old file: a reader that opened the old file keeps reading the
// old content in full.
func TestWriteFileIsANewFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows does not let a file that is open be replaced by rename")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "meta")
	if err := atomicfile.WriteFile(path, []byte("version one"), 0o644); err != nil {
		t.Fatal(err)
	}
	old, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := atomicfile.WriteFile(path, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(old); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "version one"; got != want {
		t.Errorf("reader opened before the replace read %q; want %q", got, want)
	}
	if got, want := readFile(t, path), "two"; got != want {
		t.Errorf("content = %q; want %q", got, want)
	}
}

// TestWriteFileReadersSeeWholeVersions replaces a file over and over while
// another goroutine reads it: every read must be one complete version.
func TestWriteFileReadersSeeWholeVersions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big")
	a := bytes.Repeat([]byte("a"), 256<<10)
	b := bytes.Repeat([]byte("b"), 100<<10)
	if err := atomicfile.WriteFile(path, a, 0o644); err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})
	bad := make(chan string, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			got, err := os.ReadFile(path)
			if err != nil {
				bad <- "ReadFile: " + err.Error()
				return
			}
			if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
				bad <- fmt.Sprintf("read %d bytes that are neither version", len(got))
				return
			}
		}
	})

	var werr error
	for i := range 50 {
		next := a
		if i%2 == 0 {
			next = b
		}
		if werr = atomicfile.WriteFile(path, next, 0o644); werr != nil {
			break
		}
	}
	close(done)
	wg.Wait()
	if werr != nil {
		t.Fatalf("WriteFile = %v; want nil", werr)
	}
	select {
	case msg := <-bad:
		t.Fatalf("reader: %s", msg)
	default:
	}
	if got := names(t, dir); !slices.Equal(got, []string{"big"}) {
		t.Errorf("directory holds %q; want only big, no temporary file", got)
	}
}

func TestWriteFilePerm(t *testing.T) {
	dir := t.TempDir()

	// 0600 survives any umask unchanged.
	path := filepath.Join(dir, "private")
	if err := atomicfile.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" { // Windows has only a read-only bit
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("mode = %v; want %v", got, os.FileMode(0o600))
		}
	}

	// Other modes go through the umask exactly as os.WriteFile's do.
	for _, perm := range []os.FileMode{0o644, 0o640, 0o666, 0o400} {
		ours := filepath.Join(dir, "ours-"+perm.String())
		theirs := filepath.Join(dir, "theirs-"+perm.String())
		if err := atomicfile.WriteFile(ours, []byte("x"), perm); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(theirs, []byte("x"), perm); err != nil {
			t.Fatal(err)
		}
		fo, err := os.Stat(ours)
		if err != nil {
			t.Fatal(err)
		}
		ft, err := os.Stat(theirs)
		if err != nil {
			t.Fatal(err)
		}
		if fo.Mode() != ft.Mode() {
			t.Errorf("WriteFile(perm %v) made mode %v; want %v, as os.WriteFile does", perm, fo.Mode(), ft.Mode())
		}
	}

	// Replacing a file gives the new perm, not the old file's mode.
	if err := atomicfile.WriteFile(path, []byte("y"), 0o400); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o400 {
			t.Errorf("mode after replacing with perm 0400 = %v; want %v", got, os.FileMode(0o400))
		}
	}
}

// TestWriteFileFailureLeavesNoTemp makes the rename fail by putting a
// directory where the file should go. (Permissions would not do: the tests
// may run as root.)
func TestWriteFileFailureLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "target")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "inside"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}

	err := atomicfile.WriteFile(path, []byte("data"), 0o644)
	if err == nil {
		t.Fatal("WriteFile over a directory = nil; want an error")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("WriteFile error %q does not name %s", err, path)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"target"}) {
		t.Errorf("after a failed WriteFile the directory holds %q; want only target, no temporary file", got)
	}
	if got := readFile(t, filepath.Join(path, "inside")); got != "keep" {
		t.Errorf("the directory in the way was changed: inside = %q; want %q", got, "keep")
	}
}

func TestWriteFileMissingDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "missing", "file")
	err := atomicfile.WriteFile(path, []byte("data"), 0o644)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("WriteFile into a missing directory = %v; want fs.ErrNotExist", err)
	}
	if got := names(t, dir); len(got) != 0 {
		t.Errorf("directory holds %q; want nothing", got)
	}
}

// TestWriteFileRelativePath covers a path with no directory part, whose
// directory is ".".
func TestWriteFileRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := atomicfile.WriteFile("plain", []byte("p"), 0o644); err != nil {
		t.Fatalf("WriteFile(%q) = %v; want nil", "plain", err)
	}
	if got := readFile(t, filepath.Join(dir, "plain")); got != "p" {
		t.Errorf("content = %q; want %q", got, "p")
	}
	if got := names(t, dir); !slices.Equal(got, []string{"plain"}) {
		t.Errorf("directory holds %q; want only plain", got)
	}
}

func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := atomicfile.SyncDir(dir); err != nil {
		t.Errorf("SyncDir(%q) = %v; want nil", dir, err)
	}
	missing := filepath.Join(dir, "missing")
	if err := atomicfile.SyncDir(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SyncDir(%q) = %v; want fs.ErrNotExist", missing, err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.SyncDir(file); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("SyncDir(%q) of a regular file = %v; want fs.ErrInvalid", file, err)
	}
}
