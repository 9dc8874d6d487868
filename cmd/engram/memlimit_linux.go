package main

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// availableMemory returns the memory the process may use, in bytes, and where that was
// read: the cgroup v2 limit (memory.max) when one is set and below physical memory, else
// physical memory. 0 when neither can be read.
func availableMemory() (int64, string) {
	var total int64
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		total = int64(si.Totalram) * int64(si.Unit)
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			return n, "3/4 of the cgroup's memory.max"
		}
	}
	return total, "3/4 of physical memory"
}
