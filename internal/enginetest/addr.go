package enginetest

import (
	"net"
	"testing"
)

// FreeAddr is a loopback address with a port free at the time of the call; a listener
// started later may still find it taken.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
