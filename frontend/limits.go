package frontend

import (
	"math"
	"sync"
	"time"
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

// RetryAfterSeconds rounds a wait up to whole seconds, at least 1, for Retry-After.
func RetryAfterSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}
