//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package dirlock_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/eventlog/eventlog/internal/dirlock"
)

// helperDirEnv tells a re-executed test binary which directory
// TestHelperHoldLock should lock.
const helperDirEnv = "EVENTLOG_DIRLOCK_HELPER_DIR"

// TestHelperHoldLock is not a test: it is the child process of
// TestLockDiesWithProcess. It locks the directory named in the
// environment, says "locked" on stdout, and then holds the lock until its
// stdin closes or it is killed.
func TestHelperHoldLock(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	if dir == "" {
		t.Skip("helper process for TestLockDiesWithProcess")
	}
	if _, err := dirlock.Lock(dir); err != nil {
		fmt.Printf("lock failed: %v\n", err)
		os.Exit(2)
	}
	fmt.Println("locked")
	// Block until the parent kills us. If the parent dies instead, its end
	// of the pipe closes and we exit rather than linger.
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// TestLockDiesWithProcess checks the two promises that matter across
// processes: a lock held by another process excludes us, and the kernel
// releases it when that process is killed without any chance to clean up.
func TestLockDiesWithProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // held open: the child blocks reading it
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	t.Cleanup(func() {
		stdin.Close()
		if !waited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})

	// Wait for the child to say it holds the lock. The test framework may
	// print its own lines first, so skip anything else.
	var other []string
	for sc := bufio.NewScanner(stdout); ; {
		if !sc.Scan() {
			t.Fatalf("child exited without locking (err %v); its output: %q", sc.Err(), other)
		}
		if line := sc.Text(); line == "locked" {
			break
		} else {
			other = append(other, line)
		}
	}

	wantLocked(t, dir)

	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred cleanup runs
		t.Fatal(err)
	}
	err = cmd.Wait()
	waited = true
	if cmd.ProcessState == nil {
		t.Fatalf("child Wait() = %v; want it reaped", err)
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child Wait() = %v; want it killed by SIGKILL", err)
	}

	// Wait has reaped the child, so the kernel has closed its descriptors.
	unlock, err := dirlock.Lock(dir)
	if err != nil {
		t.Fatalf("Lock(%q) after the holder was killed = %v; want nil", dir, err)
	}
	if err := unlock(); err != nil {
		t.Errorf("unlock() = %v; want nil", err)
	}
	if len(other) > 0 {
		t.Logf("child printed before locking: %s", strings.Join(other, " | "))
	}
}
