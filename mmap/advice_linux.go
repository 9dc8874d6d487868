//go:build linux

package mmap

import (
	"fmt"

	"golang.org/x/sys/unix"
)

func madvise(b []byte, a Advice) error {
	var flag int
	switch a {
	case AdviceNormal:
		flag = unix.MADV_NORMAL
	case AdviceRandom:
		flag = unix.MADV_RANDOM
	case AdviceSequential:
		flag = unix.MADV_SEQUENTIAL
	case AdviceWillNeed:
		flag = unix.MADV_WILLNEED
	default:
		return fmt.Errorf("unknown advice %d", int(a))
	}
	return unix.Madvise(b, flag)
}
