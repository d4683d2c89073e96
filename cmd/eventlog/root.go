package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/eventlog/eventlog"
)

// app holds the flags every subcommand shares.
type app struct {
	dir string
}

func newRootCmd() *cobra.Command {
	a := &app{}
	root := &cobra.Command{
		Use:   "eventlog",
		Short: "Look into and work on an eventlog data directory",
		Long: `eventlog works on the data directory of an eventlog Log: it lists and
creates topics, produces records from stdin, consumes them (like kcat),
shows and resets consumer groups, and checks the files for damage.

The directory is --dir, or EVENTLOG_DIR when --dir is not given. A Log holds
its directory exclusively: while a program has it open, eventlog refuses it.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError("unknown command %q; run \"eventlog help\" for the list", args[0])
			}
			return nil
		},
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(flagUsageError)
	root.PersistentFlags().StringVarP(&a.dir, "dir", "d", "", "data directory (default $EVENTLOG_DIR)")
	root.AddCommand(
		newTopicsCmd(a),
		newProduceCmd(a),
		newConsumeCmd(a),
		newGroupsCmd(a),
		newVerifyCmd(a),
		newDumpCmd(a),
	)
	return root
}

// dataDir returns the directory to work on: --dir, else $EVENTLOG_DIR.
func (a *app) dataDir() (string, error) {
	dir := a.dir
	if dir == "" {
		dir = os.Getenv("EVENTLOG_DIR")
	}
	if dir == "" {
		return "", usageError("no data directory: give --dir or set EVENTLOG_DIR")
	}
	return dir, nil
}

// open opens the data directory as a Log. With create false a directory
// that does not exist is an error rather than a new, empty log.
func (a *app) open(create bool) (*eventlog.Log, error) {
	dir, err := a.dataDir()
	if err != nil {
		return nil, err
	}
	if !create {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("data directory %s: %w", dir, errors.Unwrap(err))
		}
	}
	l, err := eventlog.Open(dir, nil)
	if errors.Is(err, eventlog.ErrLocked) {
		return nil, fmt.Errorf("%s is in use by another process (it holds %s/LOCK); stop it first", dir, dir)
	}
	return l, err
}

// errUsage marks errors in how the command was called; they exit with 2.
var errUsage = errors.New("usage")

type usageErr struct{ msg string }

func (e usageErr) Error() string        { return e.msg }
func (e usageErr) Is(target error) bool { return target == errUsage }

// usageError is an error in the command line: a bad flag value, a
// missing argument.
func usageError(format string, args ...any) error {
	return usageErr{fmt.Sprintf(format, args...)}
}

// exitCode is 2 for a usage error, 3 for corruption found, 1 otherwise.
func exitCode(err error) int {
	switch {
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, eventlog.ErrCorrupt):
		return 3
	}
	return 1
}

// oneLine keeps an error message to one line on stderr.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
