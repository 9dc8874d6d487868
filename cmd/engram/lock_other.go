//go:build !unix

package main

// lockDataRoot has no lock to take where flock is missing; the PID file check remains.
func lockDataRoot(string) (func(), error) { return func() {}, nil }
