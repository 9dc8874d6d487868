//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/engram-go/engram/cmd/engram/config"
)

// fakeServerProcess starts a shell that calls itself "engram" (so the PID file check
// takes it for a server) and runs script; it answers no HTTP at all.
func fakeServerProcess(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("needs /proc to tell an exited process from a zombie")
	}
	cmd := &exec.Cmd{Path: "/bin/sh", Args: []string{"engram", "-c", script}}
	if err := cmd.Start(); err != nil {
		t.Skip("no /bin/sh:", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	return cmd
}

func TestStopEscalates(t *testing.T) {
	for _, tc := range []struct {
		name, script, want string
	}{
		{"SIGTERM when the shutdown route does not answer", "while :; do sleep 0.05; done", "after SIGTERM"},
		{"SIGKILL when SIGTERM is ignored", "trap '' TERM; while :; do sleep 0.05; done", "killed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proc := fakeServerProcess(t, tc.script)
			c := newCLI(t)
			// The port names nothing, like a server whose HTTP side hangs or is gone.
			_, port, _ := strings.Cut(closedAddr(t), ":")
			pidPath := filepath.Join(c.root, config.PIDFileName)
			if err := os.MkdirAll(c.root, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(pidPath, []byte(strings.Join([]string{strconv.Itoa(proc.Process.Pid), port}, ":")), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := c.run("stop", "--timeout", "300ms")
			if code != 0 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			if processAlive(proc.Process.Pid) {
				t.Fatal("process still alive")
			}
		})
	}
}
