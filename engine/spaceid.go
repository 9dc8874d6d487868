package engine

import (
	"fmt"
	"strings"
)

// DefaultSpace always exists and cannot be deleted.
const DefaultSpace = "default"

// NormalizeSpaceID trims surrounding white space and checks the result: 3–64 characters of
// [a-z0-9_-], the first a letter or digit. It never lowercases, so "Prod" is an error rather
// than a silent alias of "prod", and the result is always safe to use as a folder name.
func NormalizeSpaceID(raw string) (string, error) {
	id := strings.TrimSpace(raw)
	if len(id) < 3 || len(id) > 64 {
		return "", fmt.Errorf("%w: %q must be 3-64 characters", ErrInvalidSpaceID, id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return "", fmt.Errorf("%w: %q may only contain a-z, 0-9, '_' and '-', starting with a letter or digit", ErrInvalidSpaceID, id)
		}
	}
	return id, nil
}
