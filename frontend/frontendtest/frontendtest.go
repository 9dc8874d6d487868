// Package frontendtest holds what the tests of every frontend share: an Authenticator of
// fixed keys and the teardown of a server and its engine. Only tests import it.
package frontendtest

import (
	"context"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

// Keys is an Authenticator of fixed keys.
type Keys map[string]*frontend.Principal

// Authenticate returns the key's principal, or frontend.ErrUnauthenticated.
func (k Keys) Authenticate(key string) (*frontend.Principal, error) {
	if p, ok := k[key]; ok {
		return p, nil
	}
	return nil, frontend.ErrUnauthenticated
}

// StopAtCleanup stops srv and then closes eng when t ends (within 10 s); a failure of either
// fails t. Cleanups registered later run first, so a client connection registered after it is
// closed before the server stops.
func StopAtCleanup(t testing.TB, srv frontend.Frontend, eng *engine.Engine) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stop the frontend: %v", err)
		}
		if err := eng.Close(); err != nil {
			t.Errorf("close the engine: %v", err)
		}
	})
}
