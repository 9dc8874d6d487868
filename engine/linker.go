package engine

import (
	"context"
	"sync"
	"time"

	"github.com/engram-go/engram/engine/graph"
	"github.com/engram-go/engram/engine/index"
	"github.com/engram-go/engram/engine/wal"
)

// Association defaults (docs/recall.md).
const (
	linkTopK             = 5                // similarity edges per new memory
	DefaultLinkThreshold = 0.4              // minimum cosine of a similarity edge
	temporalNeighbours   = 2                // previous memories considered for a temporal edge
	temporalWindow       = 10 * time.Minute // observed this close in time → temporal edge
	temporalWeight       = 0.3              // weight of a temporal edge at zero distance
	maxLinkQueue         = 250000           // beyond this, remembers answer ErrOverloaded
	hnswMinRows          = 10000            // below this many rows recall scans exactly
	hnswStartRows        = hnswMinRows / 2  // the index is built from here on, ahead of need
	hnswEfConstruction   = 100
	// indexLagBytes bounds the index lane's lag by the bytes recall must scan because the
	// index does not hold those rows yet: their int8 codes (slab.topKCoded), 192 MiB being
	// about 10 ms of scanning at this machine's memory bandwidth. Past it the lane runs
	// flat out (pacing.go). See indexLagRows.
	indexLagBytes = 192 << 20
	indexSlice    = 64 // rows inserted between two looks at the pacing
	linkBatch     = 256
)

func linkReason(k graph.EdgeKind) string {
	switch k {
	case graph.KindTemporal:
		return "temporal_proximity"
	case graph.KindConsolidation:
		return "consolidation"
	}
	return "semantic_similarity"
}

// linkJob asks the linker to build one row's association edges.
type linkJob struct {
	row       uint32
	id        string
	version   int64
	threshold float32
	enqueued  time.Time
	done      chan struct{} // nil when nobody waits
	links     []AutoLink
	// early is set (under linker.mu, by the edge lane) once a waiting job was linked
	// ahead of its turn (linker.waiting, process); its turn then only notes its row as
	// recent.
	early bool
}

func (j *linkJob) wait(ctx context.Context) []AutoLink {
	if j == nil || j.done == nil {
		return nil
	}
	select {
	case <-j.done:
		return j.links
	case <-ctx.Done():
		return nil
	}
}

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
	// hurryEdges and hurryIndex cut a lane's rest short when a waiting job arrives.
	hurryEdges, hurryIndex chan struct{}
	// indexHold is held by the index lane around each insert; tests hold it to stop the
	// lane and build a backlog.
	indexHold sync.Mutex
}

func (l *linker) start(st *state) {
	l.st = st
	l.wake = make(chan struct{}, 1)
	l.wakeIndex = make(chan struct{}, 1)
	l.quit = make(chan struct{})
	l.want = map[uint32]bool{}
	l.near = map[uint32][]index.Scored{}
	l.hurryEdges = make(chan struct{}, 1)
	l.hurryIndex = make(chan struct{}, 1)
	// After recovery: rows without edges get them.
	st.mu.RLock()
	for row, rec := range st.recs {
		if rec != nil && !rec.linked {
			l.q = append(l.q, &linkJob{row: uint32(row), id: rec.m.ID, version: rec.m.StoredAt.UnixNano(), threshold: DefaultLinkThreshold, enqueued: time.Now()})
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

// runIndex inserts rows into the HNSW index in row order once the space has
// hnswStartRows rows; below that the exact scan is cheaper than keeping an index.
func (l *linker) runIndex() {
	defer l.wg.Done()
	for {
		select {
		case <-l.quit:
			return
		case <-l.wakeIndex:
		}
		l.indexPending()
	}
}

// indexPending offers every row past the watermark to the index, a slice at a time, paced
// by the index's own lag and by the edges waiting for it.
func (l *linker) indexPending() {
	st := l.st
	began, inserted := time.Now(), 0
	defer l.pokeEdges() // edges of rows past the watermark wait for it to move
	for {
		select {
		case <-l.quit:
			return
		default:
		}
		st.mu.RLock()
		rows := len(st.recs)
		next := l.watermark()
		alive := int(next) < rows && st.aliveLocked(next) && st.recs[next].seg == nil
		st.mu.RUnlock()
		if rows < hnswStartRows || int(next) >= rows {
			return
		}
		var near []index.Scored
		l.indexHold.Lock()
		if alive {
			// The insert's own search yields the neighbours: keeping them costs nothing.
			near = st.hnsw.InsertNeighbours(next, linkTopK+8)
		}
		l.indexHold.Unlock()
		l.mu.Lock()
		if alive && l.want[next] { // not when the edge lane has linked it already
			l.near[next] = near
		}
		l.indexed = next + 1
		l.mu.Unlock()
		if inserted++; inserted == indexSlice {
			l.pokeEdges()
			l.pace(began, l.indexLag, l.hurryIndex)
			began, inserted = time.Now(), 0
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

// indexLagRows is the index lane's lag bound in rows: indexLagBytes of codes of dim bytes
// (262,144 rows at 768 dimensions), but at most three quarters of maxLinkQueue, since
// edges wait for the index and the lane must hurry before remembers are refused.
func indexLagRows(dim int) int {
	return min(max(hnswMinRows, indexLagBytes/max(dim, 1)), maxLinkQueue*3/4)
}

func (l *linker) pokeEdges() { signal(l.wake) }

// enqueue schedules edges for a freshly stored row. Rows are enqueued about in row order
// (each writer enqueues right after its apply), which ready relies on only for speed.
func (l *linker) enqueue(row uint32, id string, version int64, opts RememberOptions, wait bool) *linkJob {
	th := opts.LinkThreshold
	if th <= 0 {
		th = DefaultLinkThreshold
	}
	j := &linkJob{row: row, id: id, version: version, threshold: th, enqueued: time.Now()}
	if wait {
		j.done = make(chan struct{})
	}
	l.mu.Lock()
	l.q = append(l.q, j)
	l.want[row] = true
	if wait {
		l.waiters++
		l.waiting = append(l.waiting, j)
	}
	// A row the index has yet to take cannot be linked before it has (ready), and the
	// index lane wakes the edge lane as it moves on: waking it now would find nothing.
	edgesCanRun := row < hnswStartRows || row < l.indexed
	l.mu.Unlock()
	if wait {
		signal(l.hurryEdges, l.hurryIndex)
	}
	if edgesCanRun {
		signal(l.wake)
	}
	signal(l.wakeIndex)
	return j
}

// pending is the number of memories waiting for their edges.
func (l *linker) pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.q)
}

// lag reports the queue length and the age of its oldest job.
func (l *linker) lag() (int, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.q) == 0 {
		return 0, 0
	}
	return len(l.q), time.Since(l.q[0].enqueued)
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
		for {
			select {
			case <-l.quit:
				return
			default:
			}
			l.mu.Lock()
			n := l.ready(min(len(l.q), linkBatch))
			batch := append([]*linkJob(nil), l.q[:n]...)
			// Waiting jobs are linked ahead of their turn, so a waiting client never waits
			// behind a backlog of bulk ingestion. The cost is about a recall's: one index
			// search plus a scan of the codes of the rows the index has not taken yet. Taken
			// with the batch, a waiting job inside it is linked early and skipped in turn.
			waiting := l.waiting
			l.waiting = nil
			l.mu.Unlock()
			if len(waiting) > 0 {
				l.process(waiting, true)
			}
			if n == 0 {
				break
			}
			began := time.Now()
			l.process(batch, false)
			l.mu.Lock()
			l.q = l.q[n:]
			for _, j := range batch {
				if j.done != nil && !j.early {
					l.waiters--
				}
			}
			l.mu.Unlock()
			l.pace(began, l.edgeLag, l.hurryEdges)
		}
		l.runPromotions()
	}
}

// ready is how many of the first n queued jobs can be linked now. l.mu is held. Once the
// space builds its index (hnswStartRows), a row waits until the index lane has offered
// it: the lane's insert finds the row's neighbours among every row before it, where
// linking ahead of the index would scan rows exactly, at a cost that grows with the
// space and with the index's lag.
func (l *linker) ready(n int) int {
	for i, j := range l.q[:n] {
		if j.row >= hnswStartRows && j.row >= l.indexed {
			return i
		}
	}
	return n
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

// pace charges the budgeted part of the lane's work since began to the engine's background
// budget, then rests while the budget has no room, as restFor allows for the lane's lag (a
// fraction of its bound); it returns early when hurried or stopped.
func (l *linker) pace(began time.Time, lag func() float64, hurry <-chan struct{}) {
	b := l.st.sp.e.background
	now := time.Now()
	b.charge(now.UnixNano(), time.Duration(float64(now.Sub(began))*budgeted(l.busy(), lag())))
	for {
		r := restFor(b.wait(time.Now().UnixNano()), l.busy(), lag())
		if r <= 0 || !l.rest(r, hurry) {
			return
		}
	}
}

// edgeLag is the edge lane's lag as a fraction of its bound, the queue at which remembers
// are refused.
func (l *linker) edgeLag() float64 {
	return float64(l.pending()) / maxLinkQueue
}

// indexLag is the index lane's lag as a fraction of its bound: the rows it has yet to take
// against indexLagRows, or the edges waiting (for it) against theirs, whichever is nearer.
func (l *linker) indexLag() float64 {
	l.st.mu.RLock()
	rows := len(l.st.recs)
	l.st.mu.RUnlock()
	l.mu.Lock()
	tail := rows - int(l.indexed)
	queued := len(l.q)
	l.mu.Unlock()
	return max(float64(tail)/float64(indexLagRows(l.st.dim)), float64(queued)/maxLinkQueue)
}

// process links a batch of jobs with one WAL append for all their edges. In turn (not
// early), the batch is the head of the queue in row order and each linked row becomes a
// temporal neighbour candidate of the next; early, the batch holds waiting jobs taken
// ahead of their turn, whose temporal candidates are the rows just before them, and
// their turn later only notes them as recent.
func (l *linker) process(batch []*linkJob, early bool) {
	st := l.st
	if early {
		defer func() {
			l.mu.Lock()
			for _, j := range batch {
				j.early = true
				l.waiters--
			}
			l.mu.Unlock()
		}()
	}
	type planned struct {
		job   *linkJob
		links []link
	}
	var live []*linkJob
	var queries [][]float32
	rows := 0 // edges go to memories stored up to the batch's last one
	found := make(map[uint32][]index.Scored)
	l.mu.Lock()
	for _, j := range batch {
		if near, ok := l.near[j.row]; ok {
			found[j.row] = near
		}
		delete(l.near, j.row)
		delete(l.want, j.row)
	}
	l.mu.Unlock()
	st.mu.RLock()
	for _, j := range batch {
		if j.early {
			continue
		}
		if !st.aliveLocked(j.row) || st.recs[j.row].m.StoredAt.UnixNano() != j.version {
			if j.done != nil {
				close(j.done)
			}
			continue
		}
		live = append(live, j)
		rows = max(rows, int(j.row)+1)
		if _, ok := found[j.row]; ok {
			queries = append(queries, nil) // the index lane found its neighbours
		} else if st.recs[j.row].hasVec {
			queries = append(queries, st.vectorOf(j.row))
		} else {
			queries = append(queries, nil)
		}
	}
	st.mu.RUnlock()
	// Dead rows keep their vectors, so ask for a few more candidates than needed.
	cands := st.similarMany(queries, rows, linkTopK+8)
	var plans []planned
	i := 0
	for _, j := range batch {
		if i < len(live) && live[i] == j {
			if near, ok := found[j.row]; ok {
				cands[i] = near
			}
			recent := l.recent
			if early {
				recent = rowsBefore(j.row, temporalNeighbours)
			}
			plans = append(plans, planned{job: j, links: l.neighbours(j, cands[i], recent)})
			i++
		} else if !(j.early && !early) {
			continue // dead
		}
		if !early {
			l.noteRecent(j.row)
		}
	}
	if len(plans) == 0 {
		return
	}
	entries := make([]wal.Entry, len(plans))
	for i, p := range plans {
		entries[i] = wal.Entry{Type: recLinks, Payload: encodeLinks(nil, p.job.id, p.job.version, p.links)}
	}
	st.cp.RLock()
	defer st.cp.RUnlock()
	if _, err := st.log.AppendBatch(entries); err != nil {
		st.sp.e.cfg.Logger.Warn("association edges not logged", "space", st.sp.id, "err", st.checkLog(err))
		for _, p := range plans {
			if p.job.done != nil {
				close(p.job.done)
			}
		}
		return
	}
	st.mu.Lock()
	for _, p := range plans {
		p.job.links = st.applyLinks(p.job.id, p.job.version, p.links)
	}
	st.mu.Unlock()
	for _, p := range plans {
		if p.job.done != nil {
			close(p.job.done)
		}
	}
}

// rowsBefore returns the up to n rows just before row, oldest first.
func rowsBefore(row uint32, n int) []uint32 {
	var out []uint32
	for r := int(row) - min(int(row), n); r < int(row); r++ {
		out = append(out, uint32(r))
	}
	return out
}

// noteRecent makes row the latest temporal neighbour candidate.
func (l *linker) noteRecent(row uint32) {
	l.recent = append(l.recent, row)
	if len(l.recent) > temporalNeighbours {
		l.recent = l.recent[len(l.recent)-temporalNeighbours:]
	}
}

// neighbours turns one new row's similarity candidates (found without st.mu, so the
// search never holds up writers) into similarity edges, and adds temporal edges to the
// recent rows observed close in time.
func (l *linker) neighbours(j *linkJob, cands []index.Scored, recent []uint32) []link {
	st := l.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	rec := st.recs[j.row]
	if rec == nil {
		return nil
	}
	var out []link
	for _, c := range cands {
		if len(out) == linkTopK {
			break
		}
		if c.Row == j.row || !st.aliveLocked(c.Row) || !st.recs[c.Row].hasVec || c.Score < j.threshold {
			continue
		}
		out = append(out, link{Target: st.recs[c.Row].m.ID, Weight: min(c.Score, 1), Kind: uint8(graph.KindSimilarity)})
	}
	for i := len(recent) - 1; i >= 0; i-- {
		r := recent[i]
		if !st.aliveLocked(r) || r == j.row || hasTarget(out, st.recs[r].m.ID) {
			continue // one edge per pair: a similar memory is not also a temporal neighbour
		}
		dt := rec.m.ObservedAt.Sub(st.recs[r].m.ObservedAt).Abs()
		if dt > temporalWindow {
			continue
		}
		w := float32(temporalWeight * (1 - float64(dt)/float64(temporalWindow)))
		if w > 0 {
			out = append(out, link{Target: st.recs[r].m.ID, Weight: w, Kind: uint8(graph.KindTemporal)})
		}
	}
	return out
}

// similar returns the k rows among [0, rows) most similar to q: the HNSW index for the rows
// it holds plus an exact scan of the rows it does not hold yet, or an exact scan of
// everything while the space is small. accept may be nil; when it is not, the caller holds
// st.mu (accept reads the records).
func (st *state) similar(q []float32, rows, k int, accept func(uint32) bool) []index.Scored {
	indexed := min(int(st.link.watermark()), rows)
	if indexed < hnswMinRows || st.hnsw.Len() < hnswMinRows {
		return st.slab.topKCoded(q, 0, rows, k, accept)
	}
	approx := st.hnsw.Search(q, k, max(64, 2*k), accept)
	if indexed >= rows {
		return approx
	}
	merged := append(approx, st.slab.topKCoded(q, indexed, rows, k, accept)...)
	sortScored(merged)
	if len(merged) > k {
		merged = merged[:k]
	}
	return merged
}

// similarMany runs similar for several queries (nil entries get no candidates) without
// st.mu. While the space is scanned exactly, it makes one pass over the slab for all of
// them, block by block, so each block is read from memory once and scored from cache for
// every query: memory traffic falls by the number of queries.
func (st *state) similarMany(queries [][]float32, rows, k int) [][]index.Scored {
	out := make([][]index.Scored, len(queries))
	indexed := min(int(st.link.watermark()), rows)
	if indexed >= hnswMinRows && st.hnsw.Len() >= hnswMinRows {
		for i, q := range queries {
			if q != nil {
				out[i] = st.similar(q, rows, k, nil)
			}
		}
		return out
	}
	const block = 256 // rows per block: 768 KiB at 768 dimensions, within L2
	st.slab.blocks(0, rows, block, func(lo int, part []float32) {
		for i, q := range queries {
			if q == nil {
				continue
			}
			for _, h := range index.TopK(q, part, st.dim, len(part)/st.dim, k, nil, nil) {
				h.Row += uint32(lo)
				out[i] = append(out[i], h)
			}
			if len(out[i]) > 4*k {
				sortScored(out[i])
				out[i] = out[i][:k]
			}
		}
	})
	for i := range out {
		sortScored(out[i])
		if len(out[i]) > k {
			out[i] = out[i][:k]
		}
	}
	return out
}

// watermark is the first row not yet offered to the HNSW index.
func (l *linker) watermark() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.indexed
}

// accessLog batches reinforcement updates (access count, last access) and logs them in the
// background, so recall never waits for an fsync.
type accessLog struct {
	mu      sync.Mutex
	pending map[string]access
}

func (a *accessLog) record(id string, count uint32, last time.Time) {
	a.mu.Lock()
	if a.pending == nil {
		a.pending = map[string]access{}
	}
	a.pending[id] = access{ID: id, Count: count, Last: last}
	a.mu.Unlock()
}

func (a *accessLog) pendingCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pending)
}

func (a *accessLog) flush(st *state) {
	a.mu.Lock()
	if len(a.pending) == 0 {
		a.mu.Unlock()
		return
	}
	batch := make([]access, 0, len(a.pending))
	for _, x := range a.pending {
		batch = append(batch, x)
	}
	a.pending = nil
	a.mu.Unlock()
	if _, err := st.log.Append(wal.Entry{Type: recAccess, Payload: encodeAccess(nil, batch)}); err != nil {
		st.sp.e.cfg.Logger.Warn("reinforcement not logged", "space", st.sp.id, "err", st.checkLog(err))
	}
}

func hasTarget(links []link, id string) bool {
	for _, l := range links {
		if l.Target == id {
			return true
		}
	}
	return false
}
