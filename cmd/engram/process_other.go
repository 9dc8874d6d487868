//go:build !unix

package main

import (
	"errors"
	"os"
	"syscall"
)

// On systems without Unix signals the PID file still names the server, and stopping
// relies on the shutdown route and then on killing the process.

func signalProcess(pid int, sig syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	if sig == sigKill {
		return p.Kill()
	}
	return errors.New("engram: only the shutdown route and kill are available on this system")
}

const (
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
)
