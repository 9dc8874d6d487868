//go:build unix

package main

import (
	"errors"
	"testing"
)

func TestLockDataRootIsExclusive(t *testing.T) {
	dir := t.TempDir()
	release, err := lockDataRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDataRoot(dir); !errors.Is(err, errDataRootLocked) {
		t.Fatalf("second lock: err = %v, want errDataRootLocked", err)
	}
	release()
	again, err := lockDataRoot(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again()
}
