package engine

import "time"

// Background lanes (association edges, HNSW inserts) share the cores with requests. The
// design keeps them off the synchronous path with a bounded lag, so while requests are
// flowing a lane works in slices and rests between them, and the closer its lag gets to
// its bound the less it rests; once requests stop it runs flat out and catches up.
const (
	// foregroundWindow: a remember or recall this recent means requests are flowing.
	foregroundWindow = 100 * time.Millisecond
	// restFactor: with requests flowing and the lag under half its bound, a lane rests
	// this many times the work it just did, so it takes at most a tenth of a core.
	restFactor = 9
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

// restAfter is how long a background lane rests after work of duration d, given whether
// requests are flowing and its lag as a fraction of the lag's bound: restFactor·d while the
// lag is under half the bound, falling linearly to nothing at the bound; nothing at all
// when no request is being served.
func restAfter(d time.Duration, busy bool, lag float64) time.Duration {
	if !busy || lag >= 1 {
		return 0
	}
	r := restFactor * d
	if lag > 0.5 {
		r = time.Duration(float64(r) * (1 - lag) / 0.5)
	}
	return min(r, maxRest)
}
