// Package procs sizes the Go scheduler for a server whose durable writes block in
// fdatasync.
//
// A goroutine inside a blocking system call keeps its P (the runtime's right to run Go
// code) until the runtime's monitor notices and hands the P on, tens of microseconds to
// milliseconds later. The writer holding a WAL's lead spends most of a heavy ingestion in fdatasync, so on
// a small machine one of very few Ps is often parked in the kernel while requests wait
// to run. A few Ps beyond the CPU count keep the CPUs busy meanwhile; the kernel still
// shares the CPUs among the threads running Go code.
package procs

import (
	"os"
	"runtime"
)

// For is the GOMAXPROCS Tune picks for n CPUs: half as many again, at least one more.
func For(n int) int { return n + max(1, n/2) }

// Tune raises GOMAXPROCS to For(the runtime's choice) unless the GOMAXPROCS environment
// variable sets it explicitly, and returns the value in force afterwards.
func Tune() int {
	if os.Getenv("GOMAXPROCS") != "" {
		return runtime.GOMAXPROCS(0)
	}
	n := For(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(n)
	return n
}
