package apikey

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/engram-go/engram/engine"
)

// AllSpaces in an entry's spaces lets the key touch every memory space.
const AllSpaces = "*"

// maxNameBytes bounds a key's name, a label for people.
const maxNameBytes = 128

// Entry is one key of the keys file. The key itself is never stored, only its hash.
type Entry struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Hash      string     `json:"hash"` // lowercase hex SHA-256 of the key string
	Spaces    []string   `json:"spaces"`
	Admin     bool       `json:"admin"`
	CreatedAt time.Time  `json:"created_at"`
	Revoked   bool       `json:"revoked"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// validate checks one entry of a file being read or written.
func (e *Entry) validate() error {
	if e.ID == "" {
		return fmt.Errorf("a key has no id")
	}
	if len(e.Hash) != 64 || strings.ToLower(e.Hash) != e.Hash {
		return fmt.Errorf("key %s: hash must be 64 lowercase hex digits (SHA-256)", e.ID)
	}
	if _, err := hex.DecodeString(e.Hash); err != nil {
		return fmt.Errorf("key %s: hash must be 64 lowercase hex digits (SHA-256)", e.ID)
	}
	if err := checkName(e.Name); err != nil {
		return fmt.Errorf("key %s: %w", e.ID, err)
	}
	if err := checkSpaces(e.Spaces, e.Admin); err != nil {
		return fmt.Errorf("key %s: %w", e.ID, err)
	}
	return nil
}

func checkName(name string) error {
	if len(name) > maxNameBytes || !utf8.ValidString(name) {
		return fmt.Errorf("name must be valid UTF-8 of at most %d bytes", maxNameBytes)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("name must not contain control characters")
		}
	}
	return nil
}

// checkSpaces accepts canonical space ids or "*". Only an admin key may have no space:
// it can shut the server down but reads and writes nothing.
func checkSpaces(spaces []string, admin bool) error {
	if len(spaces) == 0 && !admin {
		return fmt.Errorf("a key needs at least one space (or %q)", AllSpaces)
	}
	seen := map[string]bool{}
	for _, s := range spaces {
		if s != AllSpaces {
			id, err := engine.NormalizeSpaceID(s)
			if err != nil || id != s {
				return fmt.Errorf("space %q is not a memory space id (3-64 of a-z, 0-9, '_', '-') or %q", s, AllSpaces)
			}
		}
		if seen[s] {
			return fmt.Errorf("space %q is listed twice", s)
		}
		seen[s] = true
	}
	return nil
}
