//go:build !linux

package mmap

import "fmt"

// madvise validates a but does nothing else: read-ahead hints are only wired on Linux.
func madvise(_ []byte, a Advice) error {
	if a < AdviceNormal || a > AdviceWillNeed {
		return fmt.Errorf("unknown advice %d", int(a))
	}
	return nil
}
