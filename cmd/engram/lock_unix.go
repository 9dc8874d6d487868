//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockFileName is the file in the data root a running server holds an exclusive lock on.
const lockFileName = "engram.lock"

// errDataRootLocked says another process holds the data root.
var errDataRootLocked = errors.New("engram: data root in use by another server")

// lockDataRoot takes an exclusive, non-blocking flock on <dir>/engram.lock so that two
// servers never open the same spaces, even when their PID files differ
// (ENGRAM_PID_PATH). The kernel drops the lock when the process dies, so a crash never
// leaves the data root locked.
func lockDataRoot(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("engram: create data root: %w", err)
	}
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("engram: open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is locked (%s); stop the other server first", errDataRootLocked, dir, path)
		}
		return nil, fmt.Errorf("engram: lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
