//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// signalProcess sends sig to pid.
func signalProcess(pid int, sig syscall.Signal) error {
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("engram: signal %v to pid %d: %w", sig, pid, err)
	}
	return nil
}

const (
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
)
