//go:build !unix

package apikey

// lockWriters does not lock where flock is unavailable: concurrent `engram key` commands
// may then lose one of two simultaneous changes (each write is still atomic).
func lockWriters(string) (func(), error) { return func() {}, nil }
