//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/cmd/engram/config"
	"github.com/engram-go/engram/internal/process"
)

// fakeServerProcess starts a shell that calls itself "engram" (so the PID file check
// takes it for a server), runs setup, then loops; it answers no HTTP at all. It returns
// once setup has run, so a signal sent afterwards meets the traps setup installed.
func fakeServerProcess(t *testing.T, setup string) *exec.Cmd {
	t.Helper()
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("needs /proc to tell an exited process from a zombie")
	}
	ready := filepath.Join(t.TempDir(), "ready")
	script := setup + `: > "$READY"; while :; do sleep 0.05; done`
	cmd := &exec.Cmd{Path: "/bin/sh", Args: []string{"engram", "-c", script}, Env: append(os.Environ(), "READY="+ready)}
	if err := cmd.Start(); err != nil {
		t.Skip("no /bin/sh:", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatal("fake server process did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStopEscalates(t *testing.T) {
	for _, tc := range []struct {
		name, script, want string
	}{
		{"SIGTERM when the shutdown route does not answer", "", "after SIGTERM"},
		{"SIGKILL when SIGTERM is ignored", "trap '' TERM; ", "killed"},
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
			if process.Alive(proc.Process.Pid) {
				t.Fatal("process still alive")
			}
		})
	}
}
