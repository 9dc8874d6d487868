//go:build unix

package main

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/apikey"
	"github.com/engram-go/engram/internal/enginetest"
)

// TestSIGHUPReloadsKeys: with the periodic look turned off, SIGHUP alone makes a
// revocation take effect.
func TestSIGHUPReloadsKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	key, e, err := apikey.Create(path, apikey.Spec{Spaces: []string{"alpha"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	log := enginetest.QuietLogger()
	store, err := apikey.Open(path, apikey.Options{Logger: log, ReloadInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	stop := reloadOnHangup(store, log)
	defer stop()
	if _, _, err := apikey.Revoke(path, e.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Authenticate(key); err != nil {
		t.Fatalf("revocation seen before SIGHUP: %v", err)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := store.Authenticate(key)
		if errors.Is(err, frontend.ErrUnauthenticated) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
}
