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
