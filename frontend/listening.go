package frontend

import (
	"errors"
	"net"
	"sync"
)

// Errors of a frontend's life cycle.
var (
	ErrStarted = errors.New("frontend: already serving")
	ErrStopped = errors.New("frontend: stopped")
)

// Listening tracks a frontend's one listener through its life: it serves at most once, and
// once stopped it never serves again.
type Listening struct {
	mu      sync.Mutex
	ln      net.Listener
	started bool
	stopped bool
}

// Begin records ln as the listener served. It refuses a second start and a start after stop.
func (l *Listening) Begin(ln net.Listener) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.stopped:
		return ErrStopped
	case l.started:
		return ErrStarted
	}
	l.started, l.ln = true, ln
	return nil
}

// Addr is the bound address, "" before Begin.
func (l *Listening) Addr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln == nil {
		return ""
	}
	return l.ln.Addr().String()
}

// End marks the frontend stopped. first is false when it already was; started says whether
// it ever served.
func (l *Listening) End() (first, started bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	first = !l.stopped
	l.stopped = true
	return first, l.started
}
