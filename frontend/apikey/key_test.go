package apikey

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestNewKey(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		key, hash, err := NewKey()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(key, Prefix) || !wellFormed(key) {
			t.Fatalf("key %q is not engram_<base64url>", key)
		}
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(key, Prefix))
		if err != nil || len(raw) != keyBytes {
			t.Fatalf("key %q decodes to %d bytes (%v), want %d", key, len(raw), err, keyBytes)
		}
		d := sha256.Sum256([]byte(key))
		if hash != hex.EncodeToString(d[:]) || hash != HashKey(key) {
			t.Fatalf("hash %q is not the SHA-256 of the key", hash)
		}
		if seen[key] {
			t.Fatalf("key %q issued twice", key)
		}
		seen[key] = true
	}
}

func TestWellFormed(t *testing.T) {
	good, _, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  string
		want bool
	}{
		{good, true},
		{"", false},
		{Prefix, false},
		{strings.TrimPrefix(good, Prefix), false},
		{good + "A", false},
		{good[:len(good)-1], false},
		{"ENGRAM_" + strings.TrimPrefix(good, Prefix), false},
		{good[:len(good)-1] + "=", false},
		{good[:len(good)-1] + "+", false},
		{good[:len(good)-1] + "\n", false},
	} {
		if got := wellFormed(c.key); got != c.want {
			t.Errorf("wellFormed(%q) = %v, want %v", c.key, got, c.want)
		}
	}
}
