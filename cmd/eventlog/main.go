// Command eventlog looks into and works on an eventlog data directory:
// topics, producing and consuming records, consumer groups, and checking
// the files for damage. It is to eventlog what kcat and rpk are to Kafka.
//
// Every subcommand works on the directory given by --dir or, if that is
// not set, by the EVENTLOG_DIR environment variable. A Log holds its
// directory exclusively, so eventlog refuses a directory that a running
// program has open, and says so.
//
// Run "eventlog help" for the subcommands and "eventlog help CMD" for one.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "eventlog: "+oneLine(err.Error()))
		os.Exit(exitCode(err))
	}
}
