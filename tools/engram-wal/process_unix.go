//go:build unix

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// processAlive reports whether pid runs. A zombie holds no files, so it counts as gone.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// The state follows the parenthesised command name: "pid (comm) S ...".
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X') {
			return false
		}
	}
	return true
}

// isEngramProcess reports whether pid runs an engram binary, so that a PID file left behind
// and recycled by another program is taken as stale. Without /proc, a live process counts.
func isEngramProcess(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return true
	}
	argv0, _, _ := bytes.Cut(b, []byte{0})
	return strings.Contains(filepath.Base(string(argv0)), "engram")
}
