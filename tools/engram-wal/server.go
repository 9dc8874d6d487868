package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/engram-go/engram/internal/process"
)

// Files a running server keeps in its data root (cmd/engram).
const (
	pidFileName  = "engram.pid"  // "<pid>:<http port>"
	lockFileName = "engram.lock" // held with an exclusive flock while the server runs
)

// runningServer is the evidence that a server uses a data root.
type runningServer struct {
	pid  int
	from string // the file that names it
}

func (s runningServer) String() string { return fmt.Sprintf("pid %d, from %s", s.pid, s.from) }

// findRunningServer reports a live server on the data root: its PID file names a live engram
// process, or a process holds the lock on its lock file. Neither check takes a lock.
func findRunningServer(root string) (runningServer, bool) {
	pidPath := filepath.Join(root, pidFileName)
	if pid, ok := readPID(pidPath); ok && process.Alive(pid) && process.IsEngram(pid) {
		return runningServer{pid: pid, from: pidPath}, true
	}
	lockPath := filepath.Join(root, lockFileName)
	if pid, ok := lockHolder(lockPath); ok {
		return runningServer{pid: pid, from: lockPath}, true
	}
	return runningServer{}, false
}

// readPID reads the process id of a PID file ("<pid>:<port>", or a bare pid).
func readPID(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pidText, _, _ := strings.Cut(strings.TrimSpace(string(b)), ":")
	pid, err := strconv.Atoi(pidText)
	return pid, err == nil && pid > 0
}
