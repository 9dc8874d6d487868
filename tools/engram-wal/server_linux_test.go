package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// holdLockFile takes the lock a running server holds on its data root, until the test ends.
func holdLockFile(t *testing.T, root string) {
	t.Helper()
	if _, err := os.Stat("/proc/locks"); err != nil {
		t.Skip("no /proc/locks")
	}
	f, err := os.Create(filepath.Join(root, lockFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
}
