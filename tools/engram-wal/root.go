package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit statuses shared by every command.
const (
	exitOK      = 0
	exitTorn    = 1 // verify: a torn tail only, which recovery cuts off
	exitDamaged = 2 // verify: corruption; dump: damage met without --raw
	exitError   = 3 // anything else: usage, unreadable folder, refusal
)

var (
	// errUsage marks a command line that cannot be run.
	errUsage = errors.New("engram-wal: usage")
	// errNoWAL says DIR holds no write-ahead log in any of the accepted layouts.
	errNoWAL = errors.New("engram-wal: no write-ahead log found")
	// errServerRunning says a live server seems to hold the data root being read.
	errServerRunning = errors.New("engram-wal: an Engram server is running on this data root")
	// errDamaged stops a dump at a damaged frame.
	errDamaged = errors.New("engram-wal: damaged frame")
	// errOutput rejects a repair destination that is not new and empty or overlaps DIR.
	errOutput = errors.New("engram-wal: unusable output folder")
)

// exitStatus ends a command with a status other than 3; err, if not nil, is printed.
type exitStatus struct {
	code int
	err  error
}

func (e *exitStatus) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitStatus) Unwrap() error { return e.err }

// options are the flags every command shares and where it writes.
type options struct {
	stdout, stderr io.Writer
	space          string
	force          bool
	times          timeFormat
}

// run executes the command line args and returns the process exit status.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := newRootCommand(stdout, stderr)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return exitOK
	}
	code := exitError
	var st *exitStatus
	if errors.As(err, &st) {
		code, err = st.code, st.err
	}
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "engram-wal:") {
			msg = "engram-wal: " + msg
		}
		fmt.Fprintln(stderr, msg)
	}
	return code
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	o := &options{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "engram-wal",
		Short: "Inspect, verify and repair Engram write-ahead logs offline",
		Long: `engram-wal reads the write-ahead logs of a stopped Engram server or of a copy of its
data root. DIR is a data root (<root>/<space>/wal/), one space folder, one wal folder or
one segment file. Nothing is ever modified; repair writes a repaired copy elsewhere.

Exit status: 0 success or clean, 1 torn tail only (verify), 2 corruption (verify) or
damage met by dump without --raw, 3 any other error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fmt.Errorf("%w: %v", errUsage, err)
	})
	pf := root.PersistentFlags()
	pf.StringVar(&o.space, "space", "", "read only the space with this id")
	pf.BoolVar(&o.force, "force", false, "repair even though a server seems to run on the data root")
	pf.Var(&o.times, "times", "how times written by the log are printed: utc (RFC 3339), unix (nanoseconds) or none")
	root.AddCommand(newLsCommand(o), newStatsCommand(o), newDumpCommand(o), newVerifyCommand(o), newRepairCommand(o))
	return root
}

// oneDir accepts exactly one DIR argument.
func oneDir(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: expected one DIR (a data root, space folder, wal folder or segment file), got %d arguments", errUsage, len(args))
	}
	return nil
}

// open resolves DIR and checks for a running server: commands that only read warn, repair
// (mustBeStopped) refuses unless --force.
func (o *options) open(dir string, mustBeStopped bool) (*target, error) {
	t, err := resolveTarget(dir, o.space)
	if err != nil {
		return nil, err
	}
	if t.root == "" {
		return t, nil
	}
	srv, ok := findRunningServer(t.root)
	if !ok {
		return t, nil
	}
	if mustBeStopped && !o.force {
		return nil, fmt.Errorf("%w (%s): the log may change while it is read; stop the server, "+
			"or copy the data root and repair the copy (--force to go ahead anyway)", errServerRunning, srv)
	}
	fmt.Fprintf(o.stderr, "engram-wal: warning: an Engram server seems to run on %s (%s); the log may change "+
		"while it is read: stop the server or copy the folder first for a consistent view\n", t.root, srv)
	return t, nil
}
