package engine

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU is the CPU time the calling OS thread has used, and whether it could be read.
// A lane keeps its goroutine on its thread for a slice of work (workCost.start), so the
// difference of two readings is the slice's own CPU time: no time spent waiting for a CPU,
// a lock or the disk.
func threadCPU() (time.Duration, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
