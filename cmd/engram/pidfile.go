package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/engram-go/engram/internal/process"
)

// errBadPIDFile says a PID file exists but does not hold `<pid>:<port>`.
var errBadPIDFile = errors.New("engram: malformed PID file")

// pidFile is the content of the PID file: the server's process id and its HTTP port
// (0 when the HTTP frontend is not running).
type pidFile struct {
	PID  int
	Port int
}

func (p pidFile) String() string { return fmt.Sprintf("%d:%d", p.PID, p.Port) }

// readPIDFile reads path; a missing file is reported with fs.ErrNotExist.
func readPIDFile(path string) (pidFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return pidFile{}, err
	}
	return parsePIDFile(string(b))
}

func parsePIDFile(s string) (pidFile, error) {
	pidStr, portStr, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return pidFile{}, fmt.Errorf("%w: %q", errBadPIDFile, s)
	}
	pid, err1 := strconv.Atoi(pidStr)
	port, err2 := strconv.Atoi(portStr)
	if err1 != nil || err2 != nil || pid <= 0 || port < 0 || port > 65535 {
		return pidFile{}, fmt.Errorf("%w: %q", errBadPIDFile, s)
	}
	return pidFile{PID: pid, Port: port}, nil
}

// writePIDFile replaces path atomically, so a reader never sees half a file.
func writePIDFile(path string, p pidFile) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("engram: PID file folder: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(p.String()+"\n"), 0o644); err != nil {
		return fmt.Errorf("engram: write PID file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("engram: write PID file: %w", err)
	}
	return nil
}

// removePIDFile removes path if it still names pid: a newer server's file is left alone.
func removePIDFile(path string, pid int) error {
	p, err := readPIDFile(path)
	if err != nil || p.PID != pid {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("engram: remove PID file: %w", err)
	}
	return nil
}

// runningServer reads the PID file at path and reports whether it names a live engram
// process. A file naming a dead or foreign process is stale.
func runningServer(path string) (p pidFile, live bool, err error) {
	p, err = readPIDFile(path)
	if err != nil {
		return pidFile{}, false, err
	}
	return p, p.PID != os.Getpid() && process.Alive(p.PID) && process.IsEngram(p.PID), nil
}
