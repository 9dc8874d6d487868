package frontend

import (
	"fmt"
	"net/http"

	"github.com/engram-go/engram/engine"
)

// AllowRemember takes n remembers from sp's rate limit. When the space is over its rate
// the answer is a 429 RATE_LIMITED error carrying Retry-After, and nothing is taken.
func (l *Limits) AllowRemember(sp *engine.Space, n int) error {
	rate := sp.Settings().RateLimit
	ok, wait := l.Allow(sp.ID(), rate, n)
	if ok {
		return nil
	}
	return &Error{
		Status:     http.StatusTooManyRequests,
		Code:       CodeRateLimited,
		Message:    fmt.Sprintf("memory space %q accepts %g remembers per second; retry later", sp.ID(), rate),
		RetryAfter: RetryAfterSeconds(wait),
	}
}
