package engine

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Background lanes (association edges, HNSW inserts) share the cores with requests. The
// design keeps them off the synchronous path with a bounded lag. While requests are flowing,
// the lanes of every open space draw on one budget of the engine: a lane works in slices,
// charges each slice to the budget and rests until the budget has room again. The part of
// the CPUs a lane may use grows with its lag: BackgroundBaseShare with no lag, rising
// linearly to Config.BackgroundMaxShare at half the lag's bound and staying there. The
// second half of the bound is headroom in which the lanes run at the maximum before the
// edge queue reaches its bound and remembers are refused (ErrOverloaded), which is what
// bounds the lag when even the maximum share cannot keep up; the lanes never take more
// than the maximum share while requests flow. Once requests stop, a lane runs flat out and
// catches up. The budget is the engine's, not each lane's, so a thousand busy spaces take
// no more of the machine in the background than one.
const (
	// foregroundWindow: a remember or recall this recent means requests are flowing.
	foregroundWindow = 100 * time.Millisecond
	// BackgroundBaseShare is the part of the CPUs the lanes of all spaces together may use
	// while requests flow and nothing lags: a tenth of a core on two CPUs.
	BackgroundBaseShare = 0.05
	// DefaultBackgroundMaxShare is the part of the CPUs the lanes may use while requests
	// flow and a lag has reached half its bound, unless Config.BackgroundMaxShare says
	// otherwise: one core of two, so requests keep at least the other.
	DefaultBackgroundMaxShare = 0.5
	// fullShareLag is the lag, as a fraction of its bound, at which the share reaches its
	// maximum.
	fullShareLag = 0.5
	// maxRest caps one rest, so a lane notices a quiet foreground or a growing lag soon.
	maxRest = 200 * time.Millisecond
)

// noteForeground records that a request is being served now. Pacing uses the machine's
// clock, not Config.Now, which tests move to age memories.
func (e *Engine) noteForeground() { e.noteForegroundAt(time.Now().UnixNano()) }

func (e *Engine) noteForegroundAt(now int64) { e.lastForeground.note(now) }

// foregroundBusy reports whether a request was served within foregroundWindow.
func (e *Engine) foregroundBusy() bool { return e.foregroundBusyAt(time.Now().UnixNano()) }

func (e *Engine) foregroundBusyAt(now int64) bool {
	return e.lastForeground.within(now, foregroundWindow)
}

// stamp is when something last happened (unix ns). Requests note it on every call, so it
// is stored at most once a millisecond: a finer stamp would buy nothing but contended
// writes.
type stamp struct{ ns atomic.Int64 }

// note records that it happens at now.
func (s *stamp) note(now int64) {
	if now-s.ns.Load() > int64(time.Millisecond) {
		s.ns.Store(now)
	}
}

// within reports whether it last happened less than d before now.
func (s *stamp) within(now int64, d time.Duration) bool { return now-s.ns.Load() < int64(d) }

// backgroundBudget is the lanes' shared budget: a clock that every slice of lane work moves
// forward by the time the budget takes to pay for it at the base share.
type backgroundBudget struct {
	mu   sync.Mutex
	free int64   // unix ns from which the budget has room for more work
	rate float64 // CPU seconds of lane work per second at the base share
	// base and max are the shares of the CPUs the lanes may use with no lag and with a lag
	// at fullShareLag of its bound.
	base, max float64
}

// budgetCPUs is the number of CPUs the budget is a share of: the machine's, or fewer when
// the scheduler was given fewer (a container's CPU limit).
func budgetCPUs() int { return min(runtime.NumCPU(), runtime.GOMAXPROCS(0)) }

// newBackgroundBudget is the budget of cpus CPUs whose share may grow to maxShare (clamped
// to [BackgroundBaseShare, 1]).
func newBackgroundBudget(cpus int, maxShare float64) *backgroundBudget {
	return &backgroundBudget{
		rate: BackgroundBaseShare * float64(max(cpus, 1)),
		base: BackgroundBaseShare,
		max:  min(max(maxShare, BackgroundBaseShare), 1),
	}
}

// charge records a slice of lane work of duration d that ended at now, of which the budget
// pays part (budgeted). Budget left unused is not saved up beyond the slice itself: a lane
// that found nothing to do for a minute does not get to run flat out for seconds
// afterwards.
func (b *backgroundBudget) charge(now int64, d time.Duration, part float64) {
	b.mu.Lock()
	b.free = max(b.free, now-int64(d)) + int64(float64(d)*part/b.rate)
	b.mu.Unlock()
}

// wait is how long from now the budget has no room.
func (b *backgroundBudget) wait(now int64) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return time.Duration(max(b.free-now, 0))
}

// share is the part of the CPUs a lane whose lag is lag (a fraction of its bound) may use
// while requests flow: the base share with no lag, growing linearly to the maximum at
// fullShareLag, the maximum beyond.
func (b *backgroundBudget) share(lag float64) float64 {
	return b.base + (b.max-b.base)*min(max(lag, 0)/fullShareLag, 1)
}

// budgeted is the part of a lane's work the budget pays for, given whether requests are
// flowing and the lane's lag as a fraction of its bound: base/share(lag), so that a lane
// alone on the budget uses share(lag) of the CPUs and the lanes together never more than
// the maximum share; nothing at all when no request is being served. Work the budget does
// not pay for (a catch-up once requests stop) is not charged to it, or the lanes would owe
// for it in the next burst.
func (b *backgroundBudget) budgeted(busy bool, lag float64) float64 {
	if !busy {
		return 0
	}
	return b.base / b.share(lag)
}

// restFor is how long a lane rests when the budget has no room for wait: all of it while
// requests flow, at most maxRest at a time; none once they stop.
func restFor(wait time.Duration, busy bool) time.Duration {
	if wait <= 0 || !busy {
		return 0
	}
	return min(wait, maxRest)
}
