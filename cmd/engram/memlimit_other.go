//go:build !linux

package main

// availableMemory is not read outside Linux: without [limits] memory_limit_bytes or
// GOMEMLIMIT the server runs without a memory limit there.
func availableMemory() (int64, string) { return 0, "" }
