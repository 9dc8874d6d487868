package engine

import (
	"sync"
	"time"
)

// Edge-lane wake-ups gathered across spaces.
//
// A remember queues a job for its space's edge lane. Waking the lane at each job is free
// for one busy space, whose lane is still working on earlier jobs when the next arrives
// (the wake-ups coalesce), but with the same load spread over many spaces each lane is
// idle when its space's next job comes, so every memory cost a goroutine switch to its
// lane and back, a slice of one job (its own WAL record of links, pacing check and
// rest) and the scheduler's time for thousands of goroutines made runnable one job at a
// time (benchmarks/RESULTS.md, "The per-space path"). So a job nobody waits for does not
// wake its lane: the engine's laneWaker wakes every lane with such jobs together,
// laneLinger after the first of them, and each lane links what its space queued
// meanwhile as one batch. A lane is woken at once when its queue reaches laneWakeNow jobs
// (a busy space gains nothing from waiting) or a remember waits for its edges (auto_link).
const (
	// laneLinger is how long queued edge jobs may wait for a lane's wake-up: small next
	// to the lag bound (Config.MaxBackgroundLag, seconds), large enough that a space taking
	// tens of memories a second gives its lane a few per wake.
	laneLinger = 50 * time.Millisecond
	// laneWakeNow is the queue length that wakes a lane at once.
	laneWakeNow = linkBatch / 4
)

// laneWaker holds the edge lanes due for a gathered wake-up.
type laneWaker struct {
	mu    sync.Mutex
	due   []*linker
	timer *time.Timer // runs wake; nil until the first lane is due
	armed bool
}

// later has l woken within laneLinger. The caller set l.wakeDue, so l is listed once.
func (w *laneWaker) later(l *linker) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.due = append(w.due, l)
	if w.armed {
		return
	}
	w.armed = true
	if w.timer == nil {
		w.timer = time.AfterFunc(laneLinger, w.wake)
		return
	}
	w.timer.Reset(laneLinger)
}

// wake wakes the lanes listed. A lane stopped meanwhile is not harmed: its wake-up channel
// is buffered and nobody reads it any more.
func (w *laneWaker) wake() {
	w.mu.Lock()
	due := w.due
	w.due = nil
	w.armed = false
	w.mu.Unlock()
	for _, l := range due {
		l.wakeDue.Store(false)
		signal(l.wake)
	}
}

// stop cancels a pending wake-up: Engine.Close has stopped every lane.
func (w *laneWaker) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.due = nil
	w.armed = false
}
