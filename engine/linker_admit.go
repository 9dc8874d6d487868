package engine

import (
	"fmt"
	"time"
)

// DefaultMaxBackgroundLag is Config.MaxBackgroundLag unless it says otherwise: the work a
// space's index lane or edge lane may owe before its remembers are refused. Five seconds
// of index work is about 25,000 rows at 768 dimensions on the development machine
// (benchmarks/RESULTS.md), whose codes an exact scan reads in a few milliseconds, so a
// recall under sustained ingestion stays within a small factor of one at rest.
const DefaultMaxBackgroundLag = 5 * time.Second

// Admission. The lanes' budget (pacing.go) grows with their lag, but on a loaded machine
// even its maximum share can fall behind sustained ingestion (the batch route takes
// memories several times faster than the index inserts them), and an unbounded lag means
// recall scanning an unbounded tail exactly. So the lag is bounded where it is made: a
// remember to a space whose index lane or edge lane owes more than MaxBackgroundLag of
// work, at its recent cost (workCost), or whose edge queue holds maxLinkQueue jobs, is
// refused with ErrOverloaded (503 OVERLOADED with Retry-After) and stores nothing. Ingestion
// then runs at the rate the lanes keep up with, and the lag stays near the bound. The
// lanes reach their maximum share at half the bound (fullShareLag), before refusals start.

// maxLag is the engine's bound on a lane's lag in time of work.
func (l *linker) maxLag() time.Duration { return l.st.sp.e.cfg.MaxBackgroundLag }

// admit returns nil when the space may take more memories, else why not (ErrOverloaded).
func (l *linker) admit() error {
	id := l.st.sp.id
	n := l.pending()
	if n >= maxLinkQueue {
		return fmt.Errorf("%w: %d memories wait for association edges in space %q", ErrOverloaded, n, id)
	}
	bound := l.maxLag()
	if w := l.edgeCost.of(n); w > bound {
		return fmt.Errorf("%w: space %q has %s of association edge work waiting (%d memories), more than [limits] max_background_lag = %s",
			ErrOverloaded, id, w.Round(time.Millisecond), n, bound)
	}
	tail := l.indexTail()
	if w := l.indexCost.of(tail); w > bound {
		return fmt.Errorf("%w: space %q has %s of vector index work waiting (%d rows), more than [limits] max_background_lag = %s",
			ErrOverloaded, id, w.Round(time.Millisecond), tail, bound)
	}
	return nil
}
