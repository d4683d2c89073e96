package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cliBinary is the eventlog command built once for all tests: they run it the
// way a user does, as a separate process on a real directory.
var cliBinary string

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "eventlog-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cliBinary = filepath.Join(tmp, "eventlog")
	args := []string{"build", "-o", cliBinary}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building eventlog:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// result is what one run of the binary printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

// run runs the eventlog binary with args and stdin, with EVENTLOG_DIR unset
// unless env sets it. It fails the test only if the binary cannot start.
func run(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(cliBinary, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("running eventlog %v: %v", args, err)
		}
		code = exit.ExitCode()
	}
	return result{out.String(), errb.String(), code}
}

// runOK runs the binary and fails the test unless it exits 0.
func runOK(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := run(t, stdin, nil, args...)
	if r.code != 0 {
		t.Fatalf("eventlog %s: exit %d, stderr: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "EVENTLOG_DIR=") {
			env = append(env, kv)
		}
	}
	// A binary built with -race waits a second before it exits, by default.
	return append(env, "GORACE=atexit_sleep_ms=0")
}
