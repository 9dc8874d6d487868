// Package cputime reads the CPU time the process has used, for benchmarks: on a shared
// machine a benchmark's CPU time per operation moves far less than its wall time.
package cputime
