package eventlogtest_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// inTest runs body as go test runs a test function, for the Examples, which
// have no *testing.T: in a test file, body is the body of a
// func TestXxx(t *testing.T). It prints the failures body reported, so that
// an Example whose body fails no longer matches its // Output:.
func inTest(body func(t testing.TB)) {
	ft := runFake(body)
	for _, m := range ft.messages() {
		fmt.Println(m)
	}
	if ft.Failed() {
		fmt.Println("FAIL")
	}
}

// fakeTB is the testing.TB that runFake gives a test body. It implements the
// methods eventlogtest and these tests use; the others panic (through the
// nil embedded interface, which also supplies TB's unexported method).
type fakeTB struct {
	testing.TB

	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex // guards the fields below
	failed   bool
	msgs     []string
	cleanups []func()
}

// runFake runs body with a fakeTB the way the testing package runs a test:
// on a goroutine of its own (so FailNow can end it), then cancels the
// Context, then runs the Cleanup functions, last registered first, each on
// a goroutine of its own.
func runFake(body func(t testing.TB)) *fakeTB {
	ft := &fakeTB{}
	ft.ctx, ft.cancel = context.WithCancel(context.Background())
	ft.run(func() { body(ft) })
	ft.cancel()
	for {
		ft.mu.Lock()
		n := len(ft.cleanups)
		if n == 0 {
			ft.mu.Unlock()
			return ft
		}
		f := ft.cleanups[n-1]
		ft.cleanups = ft.cleanups[:n-1]
		ft.mu.Unlock()
		ft.run(f)
	}
}

// run calls f on a new goroutine and waits for it to return or to call
// runtime.Goexit (FailNow).
func (ft *fakeTB) run(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

func (ft *fakeTB) messages() []string {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.msgs
}

func (ft *fakeTB) Name() string             { return "TestExample" }
func (ft *fakeTB) Helper()                  {}
func (ft *fakeTB) Context() context.Context { return ft.ctx }

func (ft *fakeTB) Cleanup(f func()) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.cleanups = append(ft.cleanups, f)
}

func (ft *fakeTB) TempDir() string {
	dir, err := os.MkdirTemp("", "eventlogtest")
	if err != nil {
		ft.Fatal(err)
	}
	ft.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (ft *fakeTB) Log(args ...any) { ft.logf("%s", strings.TrimSuffix(fmt.Sprintln(args...), "\n")) }
func (ft *fakeTB) Logf(format string, args ...any) {
	ft.logf(format, args...)
}

func (ft *fakeTB) logf(format string, args ...any) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.msgs = append(ft.msgs, fmt.Sprintf(format, args...))
}

func (ft *fakeTB) Fail() {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.failed = true
}

func (ft *fakeTB) Failed() bool {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.failed
}

func (ft *fakeTB) FailNow() {
	ft.Fail()
	runtime.Goexit()
}

func (ft *fakeTB) Error(args ...any)                 { ft.Log(args...); ft.Fail() }
func (ft *fakeTB) Errorf(format string, args ...any) { ft.Logf(format, args...); ft.Fail() }
func (ft *fakeTB) Fatal(args ...any)                 { ft.Log(args...); ft.FailNow() }
func (ft *fakeTB) Fatalf(format string, args ...any) { ft.Logf(format, args...); ft.FailNow() }
