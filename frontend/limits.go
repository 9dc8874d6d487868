package frontend

import (
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/engram-go/engram/engine"
)

// Limits holds one token bucket per space. A space's rate (remembers per second, from its
// settings) is also its burst; a rate of 0 means unlimited.
type Limits struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	rate, tokens float64
	last         time.Time
}

// NewLimits returns an empty set of buckets.
func NewLimits() *Limits { return &Limits{buckets: map[string]*bucket{}, now: time.Now} }

// Allow takes n tokens from space's bucket. When the bucket is short it takes nothing and
// says how long until n tokens are available.
func (l *Limits) Allow(space string, rate float64, n int) (bool, time.Duration) {
	if rate <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[space]
	if !ok || b.rate != rate {
		b = &bucket{rate: rate, tokens: rate, last: now}
		l.buckets[space] = b
	}
	b.tokens = math.Min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens >= float64(n) {
		b.tokens -= float64(n)
		return true, 0
	}
	wait := time.Duration((float64(n) - b.tokens) / b.rate * float64(time.Second))
	return false, wait
}

// AllowRemember takes n remembers from sp's rate limit ([spaces] rate_limit, per space and
// shared by every frontend). When the bucket is short it takes nothing and returns the 429
// RATE_LIMITED answer, whose RetryAfter is the wait until n remembers fit.
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

// RetryAfterSeconds rounds a wait up to whole seconds, at least 1, for Retry-After.
func RetryAfterSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}
