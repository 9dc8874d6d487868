package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunningServer(t *testing.T) {
	cases := []struct {
		name string
		// hold makes the data root look used by a server.
		hold func(t *testing.T, root string)
	}{
		{name: "PID file naming a live engram process", hold: func(t *testing.T, root string) {
			// The test binary is engram-wal.test: a live process whose name says engram.
			writeFile(t, filepath.Join(root, pidFileName), fmt.Sprintf("%d:7432\n", os.Getpid()))
		}},
		{name: "lock file held", hold: holdLockFile},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := copyTree(t, buildFixture(t))
			c.hold(t, root)

			code, stdout, stderr := runCmd(t, root, "verify", root)
			if code != exitOK || !strings.Contains(stderr, "warning: an Engram server seems to run") {
				t.Errorf("verify: exit %d, stderr %q; want 0 and a warning", code, stderr)
			}
			if !strings.Contains(stdout, "clean") {
				t.Errorf("verify did not run: %q", stdout)
			}

			out := filepath.Join(t.TempDir(), "out")
			code, _, stderr = runCmd(t, root, "repair", root, "--output", out)
			if code != exitError || !strings.Contains(stderr, "copy the data root") {
				t.Errorf("repair: exit %d, stderr %q; want a refusal", code, stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a refused repair wrote %s", out)
			}

			code, _, stderr = runCmd(t, root, "repair", "--force", filepath.Join(root, "notes"), "--output", out)
			if code != exitOK {
				t.Errorf("repair --force: exit %d, stderr %q", code, stderr)
			}
		})
	}
}

func TestStalePIDFileIsIgnored(t *testing.T) {
	root := copyTree(t, buildFixture(t))
	// PID 1 is never an engram process here; a huge PID names no process.
	for _, content := range []string{"1:7432", "2147483646:7432", "garbage"} {
		writeFile(t, filepath.Join(root, pidFileName), content)
		code, _, stderr := runCmd(t, root, "repair", root, "--output", filepath.Join(t.TempDir(), "out"))
		if code != exitOK || stderr != "" {
			t.Errorf("PID file %q: exit %d, stderr %q; want a quiet repair", content, code, stderr)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
