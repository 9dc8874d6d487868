package frontend

import (
	"errors"
	"regexp"
)

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

// credentialPatterns match what a message may carry of a credential: a bearer token, and
// the value of an Authorization header or metadata entry, which may use another scheme.
var credentialPatterns = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?i)(authorization\s*[:=]\s*)[^\r\n"\\]*`), "${1}[redacted]"},
	{regexp.MustCompile(`(?i)(bearer)(\s|\\[rnt]|%20|\+)+[^\s"\\,;]+`), "${1} [redacted]"},
}

// RedactCredentials returns s with every bearer token and Authorization value replaced by
// "[redacted]". Frontends pass through it any text that may quote a request — a
// transport library's error or log line — before it reaches an answer or a log, so that
// neither ever holds a key (docs/security.md).
func RedactCredentials(s string) string {
	for _, p := range credentialPatterns {
		s = p.re.ReplaceAllString(s, p.with)
	}
	return s
}
