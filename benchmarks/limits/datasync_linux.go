//go:build linux

package limits

import (
	"os"

	"golang.org/x/sys/unix"
)

// datasync is fdatasync(2), the call the write-ahead log makes, retried on EINTR.
func datasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}

// syncAll makes files durable together the way the write-ahead log's Committer does for a
// round of several logs on one filesystem: one syncfs(2).
func syncAll(files []*os.File) error {
	for {
		err := unix.Syncfs(int(files[0].Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}
