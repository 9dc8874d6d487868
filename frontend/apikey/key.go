package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// Prefix starts every key, so that keys are recognisable in logs and secret scanners.
const Prefix = "engram_"

// keyBytes is the entropy of a key.
const keyBytes = 32

// idBytes is the entropy of a key id (the public handle used by list and revoke).
const idBytes = 6

// NewKey returns a fresh key and the hex SHA-256 digest that the keys file stores.
func NewKey() (key, hash string, err error) {
	var b [keyBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("apikey: read random bytes: %w", err)
	}
	key = Prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return key, HashKey(key), nil
}

// HashKey is the digest stored for key: lowercase hex of SHA-256 over the whole key
// string, prefix included.
func HashKey(key string) string {
	d := sha256.Sum256([]byte(key))
	return hex.EncodeToString(d[:])
}

// newID returns a key id such as "key_3f2a9c01b4de".
func newID() (string, error) {
	var b [idBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("apikey: read random bytes: %w", err)
	}
	return "key_" + hex.EncodeToString(b[:]), nil
}

// wellFormed reports whether s has the shape of a key this package issues. A malformed
// value is refused before hashing; it could never match anyway.
func wellFormed(s string) bool {
	if len(s) != len(Prefix)+base64.RawURLEncoding.EncodedLen(keyBytes) || s[:len(Prefix)] != Prefix {
		return false
	}
	for i := len(Prefix); i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
