//go:build !linux

package limits

import "os"

// datasync falls back to fsync where fdatasync(2) is not available, as the log does.
func datasync(f *os.File) error { return f.Sync() }

// syncAll makes files durable one fdatasync at a time, the Committer's fallback where
// syncfs(2) is not available.
func syncAll(files []*os.File) error {
	for _, f := range files {
		if err := datasync(f); err != nil {
			return err
		}
	}
	return nil
}
