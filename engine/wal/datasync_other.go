//go:build !linux

package wal

import (
	"errors"
	"os"
)

// datasync falls back to a full fsync where fdatasync(2) is not available.
func datasync(f *os.File) error { return f.Sync() }

// haveSyncfs: there is no syncfs here, so a Committer round of several files fdatasyncs
// each of them, issued concurrently.
const haveSyncfs = false

func syncfs(*os.File) error { return errors.ErrUnsupported }

// deviceOf cannot tell filesystems apart here; every file is flushed on its own anyway.
func deviceOf(string) (uint64, error) { return 0, nil }
