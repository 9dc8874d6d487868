package engine

import (
	"runtime"
	"sync"
	"time"
)

// Background lanes (association edges, HNSW inserts) share the cores with requests. The
// design keeps them off the synchronous path with a bounded lag. While requests are flowing,
// the lanes of every open space draw on one budget of the engine, backgroundShare of the
// machine's CPUs: a lane works in slices, charges each slice to the budget and rests until
// the budget has room again, the less the closer its own lag gets to its bound. Once
// requests stop, or a lag reaches its bound, a lane runs flat out and catches up. The budget
// is the engine's, not each lane's, so a thousand busy spaces take no more of the machine in
// the background than one.
const (
	// foregroundWindow: a remember or recall this recent means requests are flowing.
	foregroundWindow = 100 * time.Millisecond
	// backgroundShare is the part of the CPUs the lanes of all spaces together may use while
	// requests flow and their lags are under half their bounds: a tenth of a core on two
	// CPUs.
	backgroundShare = 0.05
	// maxRest caps one rest, so a lane notices a quiet foreground or a growing lag soon.
	maxRest = 200 * time.Millisecond
)

// noteForeground records that a request is being served now. Pacing uses the machine's
// clock, not Config.Now, which tests move to age memories.
func (e *Engine) noteForeground() { e.noteForegroundAt(time.Now().UnixNano()) }

func (e *Engine) noteForegroundAt(now int64) {
	if now-e.lastForeground.Load() > int64(time.Millisecond) { // one store per millisecond is plenty
		e.lastForeground.Store(now)
	}
}

// foregroundBusy reports whether a request was served within foregroundWindow.
func (e *Engine) foregroundBusy() bool { return e.foregroundBusyAt(time.Now().UnixNano()) }

func (e *Engine) foregroundBusyAt(now int64) bool {
	return now-e.lastForeground.Load() < int64(foregroundWindow)
}

// backgroundBudget is the lanes' shared budget: a clock that every slice of lane work moves
// forward by the time the budget takes to pay for it.
type backgroundBudget struct {
	mu   sync.Mutex
	free int64   // unix ns from which the budget has room for more work
	rate float64 // CPU seconds of lane work per second
}

// budgetCPUs is the number of CPUs the budget is a share of: the machine's, or fewer when
// the scheduler was given fewer (a container's CPU limit).
func budgetCPUs() int { return min(runtime.NumCPU(), runtime.GOMAXPROCS(0)) }

func newBackgroundBudget(cpus int) *backgroundBudget {
	return &backgroundBudget{rate: backgroundShare * float64(max(cpus, 1))}
}

// charge records a slice of lane work of duration d that ended at now. Budget left unused
// is not saved up beyond the slice itself: a lane that found nothing to do for a minute
// does not get to run flat out for seconds afterwards.
func (b *backgroundBudget) charge(now int64, d time.Duration) {
	b.mu.Lock()
	b.free = max(b.free, now-int64(d)) + int64(float64(d)/b.rate)
	b.mu.Unlock()
}

// wait is how long from now the budget has no room.
func (b *backgroundBudget) wait(now int64) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return time.Duration(max(b.free-now, 0))
}

// budgeted is the part of a lane's work the budget pays for and of the budget's wait the
// lane rests, given whether requests are flowing and the lane's lag as a fraction of the
// lag's bound: all of it while the lag is under half the bound, falling linearly to nothing
// at the bound; nothing at all when no request is being served. Work the budget does not pay
// for (a catch-up once requests stop, a lane at its bound) is not charged to it, or the
// lanes would owe for it in the next burst.
func budgeted(busy bool, lag float64) float64 {
	switch {
	case !busy || lag >= 1:
		return 0
	case lag > 0.5:
		return (1 - lag) / 0.5
	}
	return 1
}

// restFor is how long a lane rests when the budget has no room for wait: the budgeted part
// of wait, at most maxRest at a time.
func restFor(wait time.Duration, busy bool, lag float64) time.Duration {
	if wait <= 0 {
		return 0
	}
	return min(time.Duration(float64(wait)*budgeted(busy, lag)), maxRest)
}
