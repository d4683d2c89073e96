package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// childFlag, as the first argument, makes the program run one case and
// exit instead of running the comparison. main and TestMain both check for
// it before parsing flags, so the re-exec works from `go run` and `go test`.
const childFlag = "-bench-child"

// caseKey names a case on the child's command line.
func caseKey(c Case) string { return c.Workload + "/" + c.System + "/" + c.Variant }

// findCase returns the registered case named key.
func findCase(key string) (Case, bool) {
	for _, c := range cases {
		if caseKey(c) == key {
			return c, true
		}
	}
	return Case{}, false
}

// isChild reports whether args (os.Args) ask for a child run.
func isChild(args []string) bool { return len(args) > 1 && args[1] == childFlag }

// childMain runs one case as the child process: args are os.Args[2:]
// (-case KEY -params JSON -out FILE). It writes the Result as JSON to FILE
// (or stdout if FILE is empty) and returns the exit code.
func childMain(args []string) int {
	fs := flag.NewFlagSet("bench-child", flag.ContinueOnError)
	key := fs.String("case", "", "case key: workload/system/variant")
	params := fs.String("params", "", "Params as JSON")
	out := fs.String("out", "", "file to write the Result JSON to; empty means stdout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := runChild(*key, *params, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		return 1
	}
	return 0
}

func runChild(key, paramsJSON, out string) error {
	c, ok := findCase(key)
	if !ok {
		return fmt.Errorf("no case %q", key)
	}
	var p Params
	if err := json.Unmarshal([]byte(paramsJSON), &p); err != nil {
		return fmt.Errorf("decode params %q: %w", paramsJSON, err)
	}
	// The parent sends SIGTERM at its timeout; a case that watches ctx can
	// then stop its servers before the parent's SIGKILL.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	res, err := c.Run(ctx, p)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	if out == "" {
		_, err = os.Stdout.Write(append(b, '\n'))
		return err
	}
	return os.WriteFile(out, b, 0o644)
}

// childRun is what the parent learned from one child process.
type childRun struct {
	Result  Result
	MaxRSS  int64         // peak resident bytes of the child (ru_maxrss)
	Wall    time.Duration // whole child, start-up and set-up included
	Err     error         // nil if the case returned a Result
	Stderr  string        // the child's stderr, for the error footnote
	TimeOut bool          // killed at the timeout
}

// spawner runs cases in child processes.
type spawner struct {
	exe     string        // the program to re-exec, normally os.Args[0]
	tmp     string        // parent directory of each run's Params.Dir
	timeout time.Duration // per child
}

// run executes c with p in a fresh child process and a fresh directory
// under s.tmp, which it removes afterwards.
func (s spawner) run(ctx context.Context, c Case, p Params) childRun {
	dir, err := os.MkdirTemp(s.tmp, "eventlog-bench-")
	if err != nil {
		return childRun{Err: fmt.Errorf("make run directory: %w", err)}
	}
	defer os.RemoveAll(dir)
	p.Dir = filepath.Join(dir, "data")
	if err := os.Mkdir(p.Dir, 0o755); err != nil {
		return childRun{Err: fmt.Errorf("make run directory: %w", err)}
	}
	pj, err := json.Marshal(p)
	if err != nil {
		return childRun{Err: fmt.Errorf("encode params: %w", err)}
	}
	out := filepath.Join(dir, "result.json")

	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.exe, childFlag, "-case", caseKey(c), "-params", string(pj), "-out", out)
	// SIGTERM first so the case can stop its servers; SIGKILL 5s later.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	stderr := &tailBuffer{max: 64 << 10}
	cmd.Stderr = stderr
	cmd.Stdout = stderr // a case's chatter on stdout is diagnostics too

	start := time.Now()
	runErr := cmd.Run()
	r := childRun{Wall: time.Since(start), Stderr: stderr.String()}
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			r.MaxRSS = int64(ru.Maxrss) * 1024 // KiB on Linux
		}
	}
	if ctx.Err() == context.DeadlineExceeded {
		r.TimeOut = true
		r.Err = fmt.Errorf("killed after the %v timeout", s.timeout)
		return r
	}
	if runErr != nil {
		r.Err = fmt.Errorf("child: %w: %s", runErr, lastLine(r.Stderr))
		return r
	}
	b, err := os.ReadFile(out)
	if err != nil {
		r.Err = fmt.Errorf("read child result: %w", err)
		return r
	}
	if err := json.Unmarshal(b, &r.Result); err != nil {
		r.Err = fmt.Errorf("decode child result: %w", err)
		return r
	}
	if r.Result.Records <= 0 || r.Result.Elapsed <= 0 {
		r.Err = errors.New("child reported no records or no elapsed time")
	}
	return r
}

// tailBuffer keeps the last max bytes written to it: enough of a child's
// output to explain a failure, however much a server logs.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.buf) }

// lastLine returns what explains a failed child's output s: the panic
// line if it panicked, else the last non-empty line (its error message).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			return strings.TrimSpace(l)
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}
