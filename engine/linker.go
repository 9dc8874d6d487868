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
	maxLinkQueue         = 100000           // beyond this, remembers answer ErrOverloaded
	hnswMinRows          = 10000            // below this many rows recall scans exactly
	hnswStartRows        = hnswMinRows / 2  // the index is built from here on, ahead of need
	hnswEfConstruction   = 100
	linkBatch            = 256
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
}

func (l *linker) start(st *state) {
	l.st = st
	l.wake = make(chan struct{}, 1)
	l.wakeIndex = make(chan struct{}, 1)
	l.quit = make(chan struct{})
	// After recovery: rows without edges get them.
	st.mu.RLock()
	for row, rec := range st.recs {
		if rec != nil && !rec.linked {
			l.q = append(l.q, &linkJob{row: uint32(row), id: rec.m.ID, version: rec.m.StoredAt.UnixNano(), threshold: DefaultLinkThreshold, enqueued: time.Now()})
		}
	}
	st.mu.RUnlock()
	l.wg.Add(2)
	go l.run()
	go l.runIndex()
	l.poke()
}

func (l *linker) poke() {
	for _, c := range []chan struct{}{l.wake, l.wakeIndex} {
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
		for {
			select {
			case <-l.quit:
				return
			default:
			}
			st := l.st
			st.mu.RLock()
			rows := len(st.recs)
			next := l.watermark()
			alive := int(next) < rows && st.aliveLocked(next)
			st.mu.RUnlock()
			if rows < hnswStartRows || int(next) >= rows {
				break
			}
			if alive {
				st.hnsw.Insert(next)
			}
			l.mu.Lock()
			l.indexed = next + 1
			l.mu.Unlock()
		}
	}
}

// enqueue schedules edges for a freshly stored row. Caller holds st.mu, so rows are
// enqueued in row order.
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
	l.mu.Unlock()
	l.poke()
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
		if j.done != nil {
			close(j.done)
		}
	}
	l.q = nil
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
			n := min(len(l.q), linkBatch)
			batch := append([]*linkJob(nil), l.q[:n]...)
			l.mu.Unlock()
			if n == 0 {
				break
			}
			began := time.Now()
			l.process(batch)
			l.mu.Lock()
			l.q = l.q[n:]
			backlog := len(l.q)
			l.mu.Unlock()
			l.yield(time.Since(began), backlog)
		}
	}
}

// yield lets ingestion have the CPU while the backlog is small: after a batch that took d
// the linker rests 2d (at most a third of a core), unless the queue is past half its
// bound, where it runs flat out so the lag stays bounded.
func (l *linker) yield(d time.Duration, backlog int) {
	if backlog == 0 || backlog > maxLinkQueue/2 {
		return
	}
	select {
	case <-l.quit:
	case <-time.After(min(2*d, 100*time.Millisecond)):
	}
}

// process indexes and links a batch of jobs with one WAL append for all their edges.
func (l *linker) process(batch []*linkJob) {
	st := l.st
	type planned struct {
		job   *linkJob
		links []link
	}
	var plans []planned
	for _, j := range batch {
		st.mu.RLock()
		alive := st.aliveLocked(j.row) && st.recs[j.row].m.StoredAt.UnixNano() == j.version
		st.mu.RUnlock()
		if !alive {
			if j.done != nil {
				close(j.done)
			}
			continue
		}
		plans = append(plans, planned{job: j, links: l.neighbours(j)})
	}
	if len(plans) == 0 {
		return
	}
	entries := make([]wal.Entry, len(plans))
	for i, p := range plans {
		entries[i] = wal.Entry{Type: recLinks, Payload: encodeLinks(nil, p.job.id, p.job.version, p.links)}
	}
	if _, err := st.log.AppendBatch(entries); err != nil {
		st.sp.e.cfg.Logger.Warn("association edges not logged", "space", st.sp.id, "err", err)
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

// neighbours finds the similarity and temporal edges of one new row. The similarity
// search runs without st.mu (the slab and the indexes need no lock), so it never holds up
// writers; its candidates are checked under the read lock afterwards.
func (l *linker) neighbours(j *linkJob) []link {
	st := l.st
	st.mu.RLock()
	rec := st.recs[j.row]
	rows := len(st.recs)
	st.mu.RUnlock()
	if rec == nil {
		return nil
	}
	var cands []index.Scored
	if rec.hasVec {
		// Dead rows keep their vectors, so ask for a few more than needed.
		cands = st.similar(st.vectorOf(j.row), rows, linkTopK+8, nil)
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
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
	for i := len(l.recent) - 1; i >= 0; i-- {
		r := l.recent[i]
		if !st.aliveLocked(r) || r == j.row {
			continue
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
	l.recent = append(l.recent, j.row)
	if len(l.recent) > temporalNeighbours {
		l.recent = l.recent[len(l.recent)-temporalNeighbours:]
	}
	return out
}

// similar returns the k rows among [0, rows) most similar to q: the HNSW index for the rows
// it holds plus an exact scan of the rows it does not hold yet, or an exact scan of
// everything while the space is small. accept may be nil; when it is not, the caller holds
// st.mu (accept reads the records).
func (st *state) similar(q []float32, rows, k int, accept func(uint32) bool) []index.Scored {
	slab := (*st.slab.Load())[:rows*st.dim]
	indexed := min(int(st.link.watermark()), rows)
	if indexed < hnswMinRows || st.hnsw.Len() < hnswMinRows {
		return index.TopK(q, slab, st.dim, rows, k, accept, nil)
	}
	approx := st.hnsw.Search(q, k, max(64, 2*k), accept)
	if indexed >= rows {
		return approx
	}
	tail := make([]uint32, 0, rows-indexed)
	for r := indexed; r < rows; r++ {
		tail = append(tail, uint32(r))
	}
	merged := append(approx, index.TopKRows(q, slab, st.dim, tail, k, accept)...)
	sortScored(merged)
	if len(merged) > k {
		merged = merged[:k]
	}
	return merged
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
		st.sp.e.cfg.Logger.Warn("reinforcement not logged", "space", st.sp.id, "err", err)
	}
}
