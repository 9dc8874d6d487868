package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxBackgroundLag is Config.MaxBackgroundLag unless it says otherwise: the work a
// space's index lane or edge lane may owe before its remembers are refused.
const DefaultMaxBackgroundLag = 5 * time.Second

// DefaultMaxIndexLagBytes is Config.MaxIndexLagBytes unless it says otherwise: the int8
// codes of the rows a space's vector index may lack, while the space is being recalled,
// before its remembers wait and are refused. Recall ranks those rows by their codes on
// every call, so the bound is on what that scan reads: 1.5 MiB, 2,048 rows of 768 dimensions, about 60 µs (BenchmarkSlabTail),
// a tenth of the recall's own index search, where the 5 s of MaxBackgroundLag let
// 10,000-45,000 rows wait, as much as that search again. The lanes' share follows this
// bound too (pacing.go), so while ingestion is held at it they run below their maximum
// share part of the time and recalls keep more of the CPUs (benchmarks/RESULTS.md, "Recall
// p99 under ingestion: a bound on the unindexed tail").
const DefaultMaxIndexLagBytes = 1536 << 10

// recallWindow is how long after a recall of the space the bound on the rows its index
// lacks holds. The bound exists for recall latency: while nobody recalls, a bulk load runs
// ahead of the index up to MaxBackgroundLag (as fast as the request path takes it), and
// the first recall after it pays for the tail once, after which remembers wait for the
// index to bring the tail under the bound.
const recallWindow = 10 * time.Second

// minLagRowBytes is the least a row counts for against MaxIndexLagBytes: scanning a row of
// few dimensions costs more than its code's bytes (its scale, its place in the ranking).
const minLagRowBytes = 64

// defaultAdmitWait is how long a remember past a bound waits for the lanes to bring the
// lag back under it before it is refused (Config.admitWait, which tests change): one
// Retry-After, so a client that would have been told to come back in a second is served
// within that second instead.
const defaultAdmitWait = time.Second

// Admission. The lanes' budget (pacing.go) grows with their lag, but on a loaded machine
// even its maximum share can fall behind sustained ingestion (the batch route takes
// memories several times faster than the index inserts them), and an unbounded lag means
// recall scanning an unbounded tail. So the lag is bounded where it is made: a remember to
// a space whose index lane or edge lane owes more than MaxBackgroundLag of work, at its
// recent cost (workCost), whose index lacks rows whose codes pass MaxIndexLagBytes while
// the space is being recalled (recallWindow; from hnswStartRows on: until the index holds
// hnswMinRows, recall scans every row, so the bound also keeps that scan within
// hnswMinRows plus the bound), or whose edge queue holds maxLinkQueue jobs, first waits
// up to defaultAdmitWait, in turn with the others waiting, for the lanes to bring it back
// under (awaitRoom: it holds no lock meanwhile, and is woken after each slice of lane
// work), then is refused with ErrOverloaded (503 OVERLOADED with Retry-After) and stores
// nothing. Ingestion then runs at the rate the lanes keep up with, with the lag near its
// bound: the writers queue for the lanes instead of sleeping out a Retry-After while the
// lanes, having caught up, idle. The lanes reach their maximum share at half the bound
// (fullShareLag), before anything waits.

// maxLag is the engine's bound on a lane's lag in time of work.
func (l *linker) maxLag() time.Duration { return l.st.sp.e.cfg.MaxBackgroundLag }

// tailBounded reports whether the bound on the rows the index lacks holds: whether the
// space answered a recall within recallWindow.
func (l *linker) tailBounded() bool {
	return l.lastRecall.within(time.Now().UnixNano(), recallWindow)
}

// maxIndexRows is the engine's bound on the rows the index may lack: MaxIndexLagBytes of
// codes, each row counting at least minLagRowBytes.
func (l *linker) maxIndexRows() int {
	return int(max(l.st.sp.e.cfg.MaxIndexLagBytes/int64(max(l.st.dim, minLagRowBytes)), 1))
}

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
	if rows := l.maxIndexRows(); tail > rows && l.tailBounded() {
		return fmt.Errorf("%w: space %q has %d rows the vector index has not taken yet, more than the %d whose codes [limits] max_index_lag_bytes = %d allows",
			ErrOverloaded, id, tail, rows, l.st.sp.e.cfg.MaxIndexLagBytes)
	}
	if w := l.indexCost.of(tail); w > bound {
		return fmt.Errorf("%w: space %q has %s of vector index work waiting (%d rows), more than [limits] max_background_lag = %s",
			ErrOverloaded, id, w.Round(time.Millisecond), tail, bound)
	}
	return nil
}

// awaitRoom waits until admit would take a remember, at most within, and returns early
// when ctx ends or the lanes stop. Waiters take their turns in arrival order: room that
// opens goes to the one that has waited longest, and a remember that finds others waiting
// queues behind them even if there is room. The caller holds no lock: the lanes need st.mu
// to make progress, and a writer waiting under the space's lock would hold back its
// closing. It keeps its turn until it calls the returned release, after its memories are
// stored or refused, so the next waiter judges the lag with them in it: released together,
// the waiters after the first found the lag past its bound again and were refused.
func (l *linker) awaitRoom(ctx context.Context, within time.Duration) (release func()) {
	turn := l.progress.join()
	release = func() { l.progress.leave(turn) }
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		moved := l.progress.next() // before the check, so no progress between is missed
		if l.progress.first(turn) && l.admit() == nil {
			return release
		}
		select {
		case <-moved:
		case <-deadline.C:
			return release
		case <-ctx.Done():
			return release
		case <-l.quit:
			return release
		}
	}
}

// laneProgress wakes the remembers waiting for room (awaitRoom) after each slice of lane
// work, and holds their turns.
type laneProgress struct {
	mu      sync.Mutex
	ch      chan struct{} // closed at the next slice's end or turn given up; nil until someone waits
	tickets uint64
	turns   []uint64     // the waiters' tickets, in arrival order
	queued  atomic.Int32 // len(turns), read without mu on every remember's way in
}

// next returns a channel closed when a lane next ends a slice or a waiter gives up its turn.
func (p *laneProgress) next() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ch == nil {
		p.ch = make(chan struct{})
	}
	return p.ch
}

// moved wakes every waiter of next.
func (p *laneProgress) moved() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wakeLocked()
}

// wakeLocked wakes every waiter of next; p.mu is held.
func (p *laneProgress) wakeLocked() {
	if p.ch != nil {
		close(p.ch)
		p.ch = nil
	}
}

// join queues a waiter and returns its turn.
func (p *laneProgress) join() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tickets++
	p.turns = append(p.turns, p.tickets)
	p.queued.Store(int32(len(p.turns)))
	return p.tickets
}

// first reports whether turn is the longest waiting.
func (p *laneProgress) first(turn uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.turns) > 0 && p.turns[0] == turn
}

// leave gives up turn and wakes the others, one of which may now be first.
func (p *laneProgress) leave(turn uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.turns, turn); i >= 0 {
		p.turns = slices.Delete(p.turns, i, i+1)
	}
	p.queued.Store(int32(len(p.turns)))
	p.wakeLocked()
}

// waiting is how many remembers wait for room.
func (p *laneProgress) waiting() int { return int(p.queued.Load()) }
