//go:build !linux

package prefault

// Supported reports whether Populate does anything on this platform.
const Supported = false

// Populate does nothing here: pages are backed on first write.
func Populate[T any](s []T) {}
