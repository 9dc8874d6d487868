package engine

import "sync"

// workers owns the engine's background goroutines (checkpoints, row renumbering, the idle
// sweep under pressure, the periodic loop): Engine.Close stops handing out new ones and
// waits for every one started, so no goroutine outlives the engine.
type workers struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// goDo runs f in a goroutine Close waits for. It reports false, and does not run f, once
// the engine is closing.
func (w *workers) goDo(f func()) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	w.wg.Go(f)
	return true
}

// stop refuses new work and waits for the work already started.
func (w *workers) stop() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.wg.Wait()
}
