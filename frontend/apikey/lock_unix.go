//go:build unix

package apikey

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockWriters takes an exclusive flock of "<path>.lock", waiting for another writer to
// finish. The keys file itself cannot carry the lock: every write replaces its inode.
func lockWriters(path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("apikey: create folder of the keys file: %w", err)
	}
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, filePerm)
	if err != nil {
		return nil, fmt.Errorf("apikey: open lock file: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("apikey: lock %s.lock: %w", path, err)
	}
	return func() { f.Close() }, nil
}
