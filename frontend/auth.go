package frontend

import "errors"

// Authentication errors; frontends map them to 401/403 (UNAUTHENTICATED/PERMISSION_DENIED).
var (
	ErrUnauthenticated = errors.New("frontend: missing or unknown API key")
	ErrForbidden       = errors.New("frontend: API key not allowed for this memory space")
)

// Principal is what a valid key may do.
type Principal struct {
	Name   string
	Admin  bool
	Spaces []string // "*" means every space
}

// MaySpace reports whether the principal may touch space.
func (p *Principal) MaySpace(space string) bool {
	if p == nil {
		return true
	}
	for _, s := range p.Spaces {
		if s == "*" || s == space {
			return true
		}
	}
	return false
}

// Authenticator checks a bearer key.
type Authenticator interface {
	// Authenticate returns the key's principal, or ErrUnauthenticated.
	Authenticate(key string) (*Principal, error)
}
