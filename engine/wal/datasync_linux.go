//go:build linux

package wal

import (
	"os"

	"golang.org/x/sys/unix"
)

// datasync flushes f's data and the metadata needed to read it back (fdatasync(2)); cheaper
// than fsync because timestamps are not forced out.
func datasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}

// haveSyncfs: a Committer round of several files on one filesystem is one syncfs.
const haveSyncfs = true

// syncfs writes back every dirty file of f's filesystem and commits its journal
// (syncfs(2)): the shared flush of a Committer round. Its error may come from any file of the
// filesystem, so callers use it only as a whole-round success.
func syncfs(f *os.File) error {
	for {
		err := unix.Syncfs(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}

// deviceOf returns the device of the filesystem holding path, which groups a Committer's
// rounds by the filesystem one syncfs covers.
func deviceOf(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, err
	}
	return uint64(st.Dev), nil
}
