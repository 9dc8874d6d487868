package apikey

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestCreateListRevokeRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "keys.json")
	key, e, err := Create(path, Spec{Name: "ci", Spaces: []string{"alpha", "beta"}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.ID, "key_") || e.Hash != HashKey(key) || e.Admin || e.Revoked || !e.CreatedAt.Equal(t0) {
		t.Fatalf("entry %+v", e)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), key) || strings.Contains(string(raw), strings.TrimPrefix(key, Prefix)) {
		t.Fatal("the keys file holds the key itself")
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("keys file mode %o, want 600", perm)
	}
	if _, _, err := Create(path, Spec{Name: "ops", Spaces: []string{"gamma", "*"}, Admin: true}, t0); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Keys) != 2 || f.Keys[0].ID != e.ID || f.Keys[1].Spaces[0] != AllSpaces || len(f.Keys[1].Spaces) != 1 || !f.Keys[1].Admin {
		t.Fatalf("file %+v", f)
	}

	got, changed, err := Revoke(path, e.ID, t0.Add(time.Hour))
	if err != nil || !changed || !got.Revoked || got.RevokedAt == nil || !got.RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Revoke: %+v %v %v", got, changed, err)
	}
	if _, changed, err := Revoke(path, e.ID, t0.Add(2*time.Hour)); err != nil || changed {
		t.Fatalf("second Revoke: changed %v, %v", changed, err)
	}
	if _, _, err := Revoke(path, "key_nope", t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Revoke of an unknown id: %v", err)
	}
	f, err = ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Keys[0].Revoked || !f.Keys[0].RevokedAt.Equal(t0.Add(time.Hour)) || f.Keys[1].Revoked {
		t.Fatalf("after revoke %+v", f.Keys)
	}
	// Nothing but the file and its lock is left in the folder.
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range ents {
		names = append(names, de.Name())
	}
	if fmt.Sprint(names) != "[keys.json keys.json.lock]" {
		t.Fatalf("folder holds %v", names)
	}
}

func TestCreateRefusesBadSpecs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	for _, c := range []struct {
		name string
		spec Spec
		word string
	}{
		{"no space", Spec{}, "at least one space"},
		{"bad space id", Spec{Spaces: []string{"../x"}}, `"../x"`},
		{"uppercase space id", Spec{Spaces: []string{"Alpha"}}, `"Alpha"`},
		{"untrimmed space id", Spec{Spaces: []string{" alpha"}}, `" alpha"`},
		{"duplicate space", Spec{Spaces: []string{"alpha", "alpha"}}, "twice"},
		{"control character in name", Spec{Name: "a\nb", Spaces: []string{"alpha"}}, "control"},
		{"invalid UTF-8 name", Spec{Name: "\xff", Spaces: []string{"alpha"}}, "UTF-8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Create(path, c.spec, t0)
			if !errors.Is(err, ErrInvalidEntry) || !strings.Contains(err.Error(), c.word) {
				t.Fatalf("err %v, want ErrInvalidEntry mentioning %q", err, c.word)
			}
		})
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a refused key wrote the file: %v", err)
	}
	// An admin key may have no space: it can only shut the server down.
	if _, e, err := Create(path, Spec{Admin: true}, t0); err != nil || len(e.Spaces) != 0 {
		t.Fatalf("admin key without spaces: %+v %v", e, err)
	}
}

// rawEntry is one keys file entry as JSON text.
func rawEntry(id, hash, spaces, extra string) string {
	return `{"id":"` + id + `","name":"","hash":"` + hash + `","spaces":` + spaces +
		`,"admin":false,"created_at":"2025-03-01T12:00:00Z","revoked":false` + extra + `}`
}

func rawFile(entries ...string) string {
	return `{"version":1,"keys":[` + strings.Join(entries, ",") + `]}`
}

func TestReadFileRefusesBadFiles(t *testing.T) {
	h1, h2 := HashKey("engram_x"), HashKey("engram_y")
	for _, c := range []struct{ name, body, word string }{
		{"not JSON", `{"version":1,`, "unexpected EOF"},
		{"wrong version", `{"version":2,"keys":[]}`, "version 2"},
		{"unknown field", rawFile(rawEntry("key_a", h1, `["alpha"]`, `,"revokd":true`)), "revokd"},
		{"trailing data", rawFile(rawEntry("key_a", h1, `["alpha"]`, "")) + `{}`, "trailing"},
		{"short hash", rawFile(rawEntry("key_a", h1[:10], `["alpha"]`, "")), "64 lowercase hex"},
		{"uppercase hash", rawFile(rawEntry("key_a", strings.ToUpper(h1), `["alpha"]`, "")), "64 lowercase hex"},
		{"bad space", rawFile(rawEntry("key_a", h1, `["a/b"]`, "")), `"a/b"`},
		{"no space", rawFile(rawEntry("key_a", h1, `[]`, "")), "at least one space"},
		{"no id", rawFile(rawEntry("", h1, `["alpha"]`, "")), "no id"},
		{"duplicate id", rawFile(rawEntry("key_a", h1, `["alpha"]`, ""), rawEntry("key_a", h2, `["alpha"]`, "")), "twice"},
		{"duplicate hash", rawFile(rawEntry("key_a", h1, `["alpha"]`, ""), rawEntry("key_b", h1, `["alpha"]`, "")), "twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.json")
			if err := os.WriteFile(path, []byte(c.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := ReadFile(path)
			if !errors.Is(err, ErrInvalidFile) || !strings.Contains(err.Error(), c.word) {
				t.Fatalf("err %v, want ErrInvalidFile mentioning %q", err, c.word)
			}
			// A broken file is never overwritten by a writer either.
			if _, _, err := Create(path, Spec{Spaces: []string{"alpha"}}, t0); !errors.Is(err, ErrInvalidFile) {
				t.Fatalf("Create on a broken file: %v", err)
			}
			if b, _ := os.ReadFile(path); string(b) != c.body {
				t.Fatal("a refused Create changed the broken file")
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keys.json")
		if err := os.WriteFile(path, []byte(rawFile(rawEntry("key_a", h1, `["alpha","*"]`, ""))), 0o600); err != nil {
			t.Fatal(err)
		}
		if f, err := ReadFile(path); err != nil || len(f.Keys) != 1 {
			t.Fatalf("%+v %v", f, err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		f, err := ReadFile(filepath.Join(t.TempDir(), "none.json"))
		if err != nil || len(f.Keys) != 0 {
			t.Fatalf("%+v %v", f, err)
		}
	})
}

// TestConcurrentCreatesKeepEveryKey runs writers in parallel: the flock serialises their
// read-modify-write cycles, so no key is lost.
func TestConcurrentCreatesKeepEveryKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	const writers = 12
	var wg sync.WaitGroup
	keys := make([]string, writers)
	errs := make([]error, writers)
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i], _, errs[i] = Create(path, Spec{Name: fmt.Sprint("w", i), Spaces: []string{"alpha"}}, t0)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Keys) != writers {
		t.Fatalf("%d keys in the file, want %d", len(f.Keys), writers)
	}
	s, err := Open(path, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if _, err := s.Authenticate(k); err != nil {
			t.Fatalf("key lost: %v", err)
		}
	}
}
