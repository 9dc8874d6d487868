//go:build !linux

package limits

import "os"

// datasync falls back to fsync where fdatasync(2) is not available, as the log does.
func datasync(f *os.File) error { return f.Sync() }
