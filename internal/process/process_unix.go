//go:build unix

package process

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Alive reports whether pid runs. A zombie (exited, not yet reaped by its parent) counts
// as gone: it holds no files and serves nothing.
func Alive(pid int) bool {
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

// IsEngram reports whether pid runs an engram binary, so that a PID file left behind and
// recycled by another program is taken as stale (and its process never signalled). Where
// /proc is absent, a live process is assumed to be the server.
func IsEngram(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return true
	}
	argv0, _, _ := bytes.Cut(b, []byte{0})
	return strings.Contains(filepath.Base(string(argv0)), "engram")
}
