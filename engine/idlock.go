package engine

import "sync"

// idLocks hands out one mutex per memory id currently in use, created on demand and
// dropped when nobody holds or waits for it, so memory stays proportional to the number
// of operations in flight.
type idLocks struct {
	mu    sync.Mutex
	locks map[string]*idLock
	free  []*idLock // unused locks kept for the next ids, at most maxFreeIDLocks
}

// maxFreeIDLocks bounds the unused id locks kept: about as many as writers in flight.
const maxFreeIDLocks = 256

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
		if n := len(l.free); n > 0 {
			x, l.free = l.free[n-1], l.free[:n-1]
		} else {
			x = &idLock{}
		}
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
	if x.refs == 0 { // nobody holds or waits for x: it may serve another id
		delete(l.locks, id)
		if len(l.free) < maxFreeIDLocks {
			l.free = append(l.free, x)
		}
	}
	l.mu.Unlock()
}
