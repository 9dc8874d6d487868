package engine

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/engram-go/engram/engine/graph"
	"github.com/engram-go/engram/engine/index"
)

// Association defaults (docs/recall.md).
const (
	linkTopK = 5 // similarity edges per new memory
	// maxLinkDegree: a memory with this many edges takes no similarity edge from a new
	// one. Without a bound, a memory that every later one resembles (a text remembered
	// again and again) gathers an edge from each, and since an edge change copies the
	// memory's whole adjacency (package graph), linking grew with the space. Twice the
	// default fanout, so a spread still chooses the strongest among more than it follows.
	maxLinkDegree        = 2 * graph.DefaultMaxFanout
	DefaultLinkThreshold = 0.4              // minimum cosine of a similarity edge
	temporalNeighbours   = 2                // previous memories considered for a temporal edge
	temporalWindow       = 10 * time.Minute // observed this close in time → temporal edge
	temporalWeight       = 0.3              // weight of a temporal edge at zero distance
	maxLinkQueue         = 250000           // beyond this, remembers answer ErrOverloaded
	hnswMinRows          = 10000            // below this many rows recall scans exactly
	hnswStartRows        = hnswMinRows / 2  // the index is built from here on, ahead of need
	// hnswEfConstruction is the insert's beam: 64 keeps the graph's recall@10 within 0.004
	// of a beam of 100 for 0.6-0.8 of the CPU per 768-d insert (BenchmarkHNSWInsert,
	// benchmarks/RESULTS.md), and still yields the linkTopK+8 neighbours the edge lane
	// takes from each insert.
	hnswEfConstruction = 64
	indexSlice         = 64 // rows inserted between two looks at the pacing
	linkBatch          = 256
)

// linker trails ingestion in two background goroutines per open space: one builds
// association edges and logs them to the WAL, the other inserts rows into the HNSW index
// once the space is large enough to need it. Remember never waits on either unless it asks
// to (auto_link). Edges are the bounded queue; the index may lag further, since the exact
// scan of its not-yet-indexed tail keeps recall complete.
type linker struct {
	st        *state
	mu        sync.Mutex
	q         []*linkJob
	wake      chan struct{}
	wakeIndex chan struct{}
	quit      chan struct{}
	wg        sync.WaitGroup
	indexed   uint32 // rows below this were offered to the HNSW index (watermark)
	recent    []uint32
	promos    map[string]bool // memories recalled from warm or cold, to promote
	// want holds the rows of queued jobs (l.q); near, the neighbours the index lane found
	// for such a row while inserting it, so the edge lane needs no search of its own.
	want map[uint32]bool
	near map[uint32][]index.Scored
	// waiters counts queued jobs whose remember waits for its edges (auto_link): while
	// there are any, neither lane rests. waiting holds those the edge lane has not taken
	// yet; it links them ahead of their turn.
	waiters int
	waiting []*linkJob
	// sparse holds the most recent rows linked to fewer than sparseLinks similar
	// memories (linker_edges.go), oldest first.
	sparse []uint32
	// linkedSeen and sparseSeen count the recently linked rows and the sparse ones among
	// them (noteSparse).
	linkedSeen, sparseSeen int
	// hurryEdges and hurryIndex cut a lane's rest short when a waiting job arrives.
	hurryEdges, hurryIndex chan struct{}
	// beforeInsert, when set, runs before each insert of the index lane (linker_index.go).
	// Production never sets it; a test installs a function that blocks, to build a
	// backlog of rows the index has not taken. An unset hook costs one atomic load.
	beforeInsert atomic.Pointer[func()]
	// indexCost and edgeCost are the lanes' recent cost of one row indexed and of one job
	// linked, to state their lags in seconds of work.
	indexCost, edgeCost workCost
	// progress wakes the remembers waiting for the lag to fall under its bound
	// (awaitRoom) and holds their turns.
	progress laneProgress
	// lastRecall is when the space last answered a recall: the bound on the rows the index
	// lacks holds only within recallWindow of one (linker_admit.go).
	lastRecall stamp
	// wakeDue is set while the engine's laneWaker holds a wake-up for the edge lane
	// (lanewake.go).
	wakeDue atomic.Bool
}

// workCost is a lane's recent cost of one unit of work: a moving average over its slices,
// each weighing an eighth. The cost is the lane's CPU time where the thread's clock can be
// read (threadCPU), else wall time, which on a loaded machine counts the waits too. Only
// the lane's own goroutine calls start and note.
type workCost struct {
	ns                 atomic.Int64
	began, beganThread time.Duration // readings at the start of the slice
	cpu                bool
}

// start marks the start of a slice and keeps the goroutine on its thread until note, so
// that the thread's CPU clock is the slice's. Every start is followed by one note.
func (c *workCost) start() {
	runtime.LockOSThread()
	c.began = time.Duration(time.Now().UnixNano())
	c.beganThread, c.cpu = threadCPU()
}

// note ends the slice begun at the last start, records it as n units of work and returns
// its cost.
func (c *workCost) note(n int) time.Duration {
	d := time.Duration(time.Now().UnixNano()) - c.began
	if now, ok := threadCPU(); ok && c.cpu {
		d = now - c.beganThread
	}
	runtime.UnlockOSThread()
	if n <= 0 {
		return d
	}
	per := int64(d) / int64(n)
	if old := c.ns.Load(); old > 0 {
		per = old + (per-old)/8
	}
	c.ns.Store(per)
	return d
}

// of is the time n units take at the recent cost.
func (c *workCost) of(n int) time.Duration { return time.Duration(c.ns.Load() * int64(n)) }

func (l *linker) start(st *state) {
	l.st = st
	l.wake = make(chan struct{}, 1)
	l.wakeIndex = make(chan struct{}, 1)
	l.quit = make(chan struct{})
	l.want = map[uint32]bool{}
	l.near = map[uint32][]index.Scored{}
	l.hurryEdges = make(chan struct{}, 1)
	l.hurryIndex = make(chan struct{}, 1)
	l.indexed = st.indexFrom() // rows below are in the index loaded from the checkpoint
	// After recovery: rows without edges get them.
	st.mu.RLock()
	for row, lm := range st.byRow {
		if lm != nil && !lm.linked.Load() {
			l.q = append(l.q, &linkJob{row: uint32(row), id: lm.m.ID, version: lm.m.StoredAt.UnixNano(), threshold: DefaultLinkThreshold, enqueued: time.Now()})
			l.want[uint32(row)] = true
		}
	}
	st.mu.RUnlock()
	l.wg.Add(2)
	go l.run()
	go l.runIndex()
	l.poke()
}

func (l *linker) poke() { signal(l.wake, l.wakeIndex) }

// signal wakes the lanes waiting on cs without ever blocking: a wake-up already pending
// covers this one.
func signal(cs ...chan struct{}) {
	for _, c := range cs {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// busy reports whether the lanes should yield to requests: some are being served and none
// of them waits for its edges.
func (l *linker) busy() bool {
	l.mu.Lock()
	waiting := l.waiters > 0
	l.mu.Unlock()
	return !waiting && l.st.sp.e.foregroundBusy()
}

func (l *linker) stop() {
	close(l.quit)
	l.wg.Wait()
	// Waiters of unprocessed jobs get no links rather than hanging.
	l.mu.Lock()
	for _, j := range l.q {
		if j.done != nil && !j.early {
			close(j.done)
		}
	}
	l.q = nil
	clear(l.want)
	clear(l.near)
	l.waiters = 0
	l.waiting = nil
	l.mu.Unlock()
}

// run is the edge lane's goroutine. Each wake-up (a new job, a promotion, or the
// one-second tick) runs its jobs in turn; none holds a lock while the next runs:
//
//   - on the tick, the access log's reinforcements are flushed (accesslog.go: a.mu to take
//     the batch, then one WAL append under no engine lock);
//   - queued jobs are linked (linkQueued, linker_edges.go: l.mu to take a batch, st.mu
//     shared to read, st.cp shared around the WAL append, st.mu shared to apply);
//   - memories recalled from warm or cold are promoted (runPromotions, tiers.go: each
//     under its id lock, st.cp shared around its WAL append, st.mu exclusive to apply).
func (l *linker) run() {
	defer l.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-l.quit:
			return
		case <-tick.C:
			l.st.acc.flush(l.st)
		case <-l.wake:
		}
		if !l.linkQueued() {
			return
		}
		l.runPromotions()
	}
}

// rest pauses a background lane for d, or until the linker stops or hurry fires.
func (l *linker) rest(d time.Duration, hurry <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-l.quit:
		return false
	case <-t.C:
		return true
	case <-hurry:
		return false
	}
}

// pace charges the budgeted part of the slice of lane work that just ended, of cost d
// (workCost.note: the lane thread's CPU time where it can be read), to the engine's
// background budget, the less the larger the lane's lag (a fraction of its bound), then
// rests while the budget has no room and requests flow; it returns early when hurried or
// stopped. The charge is CPU time, not the slice's wall time: on a loaded machine a slice
// also waits for the CPU and for the state's lock, and charging those waits held the index
// lane to a few percent of a core while its share said half the CPUs.
func (l *linker) pace(d time.Duration, lag func() float64, hurry <-chan struct{}) {
	l.progress.moved()
	b := l.st.sp.e.background
	b.charge(time.Now().UnixNano(), d, b.budgeted(l.busy(), lag()))
	for {
		r := restFor(b.wait(time.Now().UnixNano()), l.busy())
		if r <= 0 || !l.rest(r, hurry) {
			return
		}
	}
}
