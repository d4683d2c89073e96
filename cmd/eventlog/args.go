package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/eventlog/eventlog"
)

// flagUsageError turns cobra's flag parsing errors (an unknown flag, a
// value that does not parse) into usage errors, which exit with 2. Set on
// a command, it applies to its subcommands too.
func flagUsageError(_ *cobra.Command, err error) error {
	return usageError("%v", err)
}

// argsBetween returns a cobra.PositionalArgs accepting between lo and hi
// arguments (hi < 0: no upper bound) and otherwise failing with a usage
// error that says what the command takes.
func argsBetween(lo, hi int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || (hi >= 0 && len(args) > hi) {
			return usageError("%s takes %s, got %d argument(s); see %q", cmd.CommandPath(), what, len(args), cmd.CommandPath()+" --help")
		}
		return nil
	}
}

// runParentCommand is the RunE of a command that only groups subcommands:
// without arguments it prints its help; with one it reports an unknown
// subcommand as a usage error, where cobra would print the help and exit 0.
func runParentCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
	}
	return usageError("%s", msg)
}

// argError marks a library error caused by a bad argument, such as an
// invalid topic name (eventlog.ErrInvalidName), as a usage error, so that it
// exits with 2, while errors.Is still finds the library's sentinel.
type argError struct{ err error }

func (e argError) Error() string   { return e.err.Error() }
func (e argError) Unwrap() []error { return []error{e.err, errUsage} }

// classifyArgError returns err marked as a usage error if it says an
// argument was bad (an invalid name or configuration), and err unchanged
// otherwise.
func classifyArgError(err error) error {
	if errors.Is(err, eventlog.ErrInvalidName) || errors.Is(err, eventlog.ErrInvalidConfig) {
		return argError{err}
	}
	return err
}

// closeLog closes l and, if nothing failed before (*err is nil), reports
// a failure to close in *err: Close writes and syncs, so its error matters.
func closeLog(l *eventlog.Log, err *error) {
	if cerr := l.Close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("close the log: %w", cerr)
	}
}
