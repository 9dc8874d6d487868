//go:build linux

package prefault

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Supported reports whether Populate does anything on this platform.
const Supported = true

const pageSize = 4096

// Populate backs the whole pages under s with memory (MADV_POPULATE_WRITE, Linux 5.14+),
// leaving their contents unchanged. It is advice: a kernel that refuses leaves the pages to
// be backed on first write, so the error is dropped.
func Populate[T any](s []T) {
	if len(s) == 0 {
		return
	}
	base := unsafe.Pointer(unsafe.SliceData(s))
	start := uintptr(base)
	end := start + uintptr(len(s))*unsafe.Sizeof(s[0])
	from := (start + pageSize - 1) &^ (pageSize - 1)
	to := end &^ (pageSize - 1)
	if to <= from {
		return
	}
	pages := unsafe.Slice((*byte)(unsafe.Add(base, from-start)), to-from)
	_ = unix.Madvise(pages, unix.MADV_POPULATE_WRITE)
}
