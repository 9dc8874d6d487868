package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestParsePIDFile(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want pidFile
		ok   bool
	}{
		{"123:7432", pidFile{123, 7432}, true},
		{"123:7432\n", pidFile{123, 7432}, true},
		{" 9:0 ", pidFile{9, 0}, true},
		{"123", pidFile{}, false},
		{"abc:7432", pidFile{}, false},
		{"123:port", pidFile{}, false},
		{"0:7432", pidFile{}, false},
		{"-5:7432", pidFile{}, false},
		{"5:70000", pidFile{}, false},
		{"", pidFile{}, false},
	} {
		got, err := parsePIDFile(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("parsePIDFile(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if !tc.ok && !errors.Is(err, errBadPIDFile) {
			t.Errorf("parsePIDFile(%q) error %v is not errBadPIDFile", tc.in, err)
		}
	}
}

func TestPIDFileLifecycle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "engram.pid")
	if _, _, err := runningServer(path); !isNotExist(err) {
		t.Fatalf("missing file: err = %v", err)
	}
	if err := writePIDFile(path, pidFile{PID: 4242, Port: 7432}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "4242:7432\n" {
		t.Fatalf("file holds %q, %v", b, err)
	}
	// Another pid's file is not removed.
	if err := removePIDFile(path, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("file of pid 4242 removed by pid 1: %v", err)
	}
	if err := removePIDFile(path, 4242); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("file still there: %v", err)
	}
}

func TestRunningServer(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "engram.pid")

	// Our own pid is never "another running server".
	if err := writePIDFile(path, pidFile{PID: os.Getpid(), Port: 1}); err != nil {
		t.Fatal(err)
	}
	if _, live, err := runningServer(path); err != nil || live {
		t.Fatalf("own pid: live=%v err=%v", live, err)
	}

	// A process that has exited (and been reaped) is stale.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no `true` binary:", err)
	}
	if err := writePIDFile(path, pidFile{PID: cmd.Process.Pid, Port: 1}); err != nil {
		t.Fatal(err)
	}
	if _, live, err := runningServer(path); err != nil || live {
		t.Fatalf("exited pid: live=%v err=%v", live, err)
	}

	// A live process that is not engram is stale too: it must never be signalled.
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Skip("no `sleep` binary:", err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	if err := writePIDFile(path, pidFile{PID: sleep.Process.Pid, Port: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("no /proc: a live process is taken for the server")
	}
	if _, live, err := runningServer(path); err != nil || live {
		t.Fatalf("foreign pid: live=%v err=%v", live, err)
	}
}
