package engine

import "sync"

// idLocks hands out one mutex per memory id currently in use, created on demand and
// dropped when nobody holds or waits for it, so memory stays proportional to the number
// of operations in flight.
type idLocks struct {
	mu    sync.Mutex
	locks map[string]*idLock
}

type idLock struct {
	sync.Mutex
	refs int
}

func (l *idLocks) acquire(id string) *idLock {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*idLock{}
	}
	x, ok := l.locks[id]
	if !ok {
		x = &idLock{}
		l.locks[id] = x
	}
	x.refs++
	l.mu.Unlock()
	x.Lock()
	return x
}

func (l *idLocks) release(id string, x *idLock) {
	x.Unlock()
	l.mu.Lock()
	x.refs--
	if x.refs == 0 {
		delete(l.locks, id)
	}
	l.mu.Unlock()
}
