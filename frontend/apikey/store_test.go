package apikey

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/internal/enginetest"
)

var quiet = enginetest.QuietLogger()

// clock is a settable time source shared by the store and the test.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(t0.UnixNano())
	return c
}

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func mustCreate(t *testing.T, path string, spec Spec) (string, Entry) {
	t.Helper()
	key, e, err := Create(path, spec, t0)
	if err != nil {
		t.Fatal(err)
	}
	return key, e
}

func TestAuthenticate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	alpha, _ := mustCreate(t, path, Spec{Name: "alpha-writer", Spaces: []string{"alpha"}})
	admin, adminEntry := mustCreate(t, path, Spec{Spaces: []string{"*"}, Admin: true})
	revoked, revokedEntry := mustCreate(t, path, Spec{Spaces: []string{"alpha"}})
	if _, _, err := Revoke(path, revokedEntry.ID, t0); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{Logger: quiet, ReloadInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := NewKey()

	p, err := s.Authenticate(alpha)
	if err != nil || p.Name != "alpha-writer" || p.Admin || !p.MaySpace("alpha") || p.MaySpace("beta") {
		t.Fatalf("alpha key: %+v %v", p, err)
	}
	p, err = s.Authenticate(admin)
	if err != nil || !p.Admin || !p.MaySpace("anything") || p.Name != adminEntry.ID {
		t.Fatalf("admin key: %+v %v", p, err)
	}
	for _, c := range []struct{ name, key, word string }{
		{"empty", "", ""},
		{"unknown well-formed key", other, ""},
		{"malformed", "hunter2", ""},
		{"the stored hash is not a key", HashKey(alpha), ""},
		{"alpha key with a suffix", alpha + "x", ""},
		{"revoked", revoked, revokedEntry.ID + " was revoked"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := s.Authenticate(c.key)
			if p != nil || !errors.Is(err, frontend.ErrUnauthenticated) || !strings.Contains(err.Error(), c.word) {
				t.Fatalf("got %+v, %v; want ErrUnauthenticated mentioning %q", p, err, c.word)
			}
			if c.key != "" && strings.Contains(err.Error(), c.key) {
				t.Fatal("the error repeats the presented key")
			}
		})
	}
}

func TestOpenMissingFileRefusesEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	clk := newClock()
	s, err := Open(path, Options{Logger: quiet, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	key, _, _ := NewKey()
	if _, err := s.Authenticate(key); !errors.Is(err, frontend.ErrUnauthenticated) {
		t.Fatal(err)
	}
	// A key created offline is picked up at the next look.
	key, _ = mustCreate(t, path, Spec{Spaces: []string{"alpha"}})
	clk.advance(DefaultReloadInterval)
	if _, err := s.Authenticate(key); err != nil {
		t.Fatalf("new key after the reload interval: %v", err)
	}
}

func TestOpenRefusesBrokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{Logger: quiet}); !errors.Is(err, ErrInvalidFile) {
		t.Fatalf("Open: %v", err)
	}
}

func TestReloadOnChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	key, e := mustCreate(t, path, Spec{Spaces: []string{"alpha"}})
	clk := newClock()
	s, err := Open(path, Options{Logger: quiet, Now: clk.now, ReloadInterval: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(key); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Revoke(path, e.ID, t0); err != nil {
		t.Fatal(err)
	}
	// Within the interval the file is not looked at.
	clk.advance(2 * time.Second)
	if _, err := s.Authenticate(key); err != nil {
		t.Fatalf("revocation seen before the reload interval: %v", err)
	}
	clk.advance(time.Second)
	if _, err := s.Authenticate(key); !errors.Is(err, frontend.ErrUnauthenticated) {
		t.Fatalf("revoked key still accepted after the interval: %v", err)
	}

	t.Run("a broken file keeps the keys in force", func(t *testing.T) {
		other, _ := mustCreate(t, path, Spec{Spaces: []string{"beta"}})
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(`{"version":1,"keys":[{"id":`), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.Reload(); !errors.Is(err, ErrInvalidFile) {
			t.Fatalf("Reload of a broken file: %v", err)
		}
		clk.advance(time.Minute)
		if _, err := s.Authenticate(other); err != nil {
			t.Fatalf("key lost to a broken file: %v", err)
		}
		if _, err := s.Authenticate(key); !errors.Is(err, frontend.ErrUnauthenticated) {
			t.Fatalf("revoked key accepted after a broken file: %v", err)
		}
	})
	t.Run("a removed file refuses every key", func(t *testing.T) {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		clk.advance(time.Minute)
		f, err := ReadFile(path)
		if err != nil || len(f.Keys) != 0 {
			t.Fatal(f, err)
		}
		for i := 0; i < 2; i++ {
			if _, err := s.Authenticate(key); !errors.Is(err, frontend.ErrUnauthenticated) {
				t.Fatalf("key accepted without a keys file: %v", err)
			}
		}
	})
}

func TestReloadIntervalOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	key, e := mustCreate(t, path, Spec{Spaces: []string{"alpha"}})
	clk := newClock()
	s, err := Open(path, Options{Logger: quiet, Now: clk.now, ReloadInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Revoke(path, e.ID, t0); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Hour)
	if _, err := s.Authenticate(key); err != nil {
		t.Fatalf("automatic reload happened although it is off: %v", err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(key); !errors.Is(err, frontend.ErrUnauthenticated) {
		t.Fatalf("revoked key accepted after Reload: %v", err)
	}
}

// TestConcurrentAuthenticateAndRevoke runs readers against a store whose file changes
// under them; with -race it checks the snapshot swap.
func TestConcurrentAuthenticateAndRevoke(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	const n = 8
	keys := make([]string, n)
	entries := make([]Entry, n)
	for i := range keys {
		keys[i], entries[i] = mustCreate(t, path, Spec{Name: fmt.Sprint("k", i), Spaces: []string{"alpha"}})
	}
	clk := newClock()
	s, err := Open(path, Options{Logger: quiet, Now: clk.now, ReloadInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				clk.advance(time.Millisecond)
				p, err := s.Authenticate(keys[i%n])
				if err == nil && p.Name != fmt.Sprint("k", i%n) {
					t.Errorf("key %d authenticated as %q", i%n, p.Name)
				}
			}
		}()
	}
	for i := 0; i < n/2; i++ {
		if _, _, err := Revoke(path, entries[i].ID, t0); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		_, err := s.Authenticate(keys[i])
		if revoked := i < n/2; revoked != (err != nil) {
			t.Errorf("key %d: revoked %v, Authenticate error %v", i, revoked, err)
		}
	}
}
