//go:build !linux

package main

// lockHolder cannot see other processes' locks without /proc/locks; the PID file check remains.
func lockHolder(string) (int, bool) { return 0, false }
