package main

import (
	"strings"
	"testing"
)

func TestNoDirIsAUsageError(t *testing.T) {
	r := run(t, "", nil, "topics", "list")
	if r.code != 2 || !strings.Contains(r.stderr, "EVENTLOG_DIR") {
		t.Fatalf("exit %d, stderr %q; want 2 and a hint at EVENTLOG_DIR", r.code, r.stderr)
	}
	if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Fatalf("error is not one line: %q", r.stderr)
	}
}

func TestUnknownCommandOrFlagIsAUsageError(t *testing.T) {
	for _, args := range [][]string{{"bogus"}, {"--frob"}, {"topics", "lst"}} {
		r := run(t, "", nil, args...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, "eventlog: ") {
			t.Errorf("eventlog %v: exit %d, stderr %q; want 2 and one eventlog: line", args, r.code, r.stderr)
		}
	}
}

func TestHelpListsEverySubcommand(t *testing.T) {
	out := runOK(t, "", "help")
	for _, cmd := range []string{"topics", "produce", "consume", "groups", "verify", "dump"} {
		if !strings.Contains(out, "\n  "+cmd+" ") {
			t.Errorf("help does not list %s:\n%s", cmd, out)
		}
	}
}
