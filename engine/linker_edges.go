package engine

import (
	"context"
	"slices"
	"time"

	"github.com/engram-go/engram/engine/graph"
	"github.com/engram-go/engram/engine/index"
	"github.com/engram-go/engram/engine/record"
	"github.com/engram-go/engram/engine/wal"
	"github.com/engram-go/engram/simd"
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

// planned is a job with the edges chosen for it.
type planned struct {
	job   *linkJob
	links []record.Link
	// passedOver counts the similar memories that had no room for an edge (maxLinkDegree):
	// a memory passed over by them is crowded, not sparse.
	passedOver int
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

func (l *linker) pokeEdges() { signal(l.wake) }

// enqueue schedules edges for a freshly stored row. Rows are enqueued about in row order
// (each writer enqueues right after its apply), which ready relies on only for speed.
// It takes l.mu; a writer may call it holding st.mu (l.mu is always taken after st.mu).
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
	wakeNow := wait || len(l.q) >= laneWakeNow
	l.mu.Unlock()
	if wait {
		signal(l.hurryEdges, l.hurryIndex)
	}
	switch {
	case !edgesCanRun:
	case wakeNow:
		signal(l.wake)
	case !l.wakeDue.Swap(true):
		l.st.sp.e.lanes.later(l) // lanewake.go
	}
	// Below hnswStartRows the index lane has nothing to do (indexPending returns at once).
	if row+1 >= hnswStartRows {
		signal(l.wakeIndex)
	}
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

// edgeLag is the edge lane's lag as a fraction of its bound: the queue against the length
// at which remembers are refused, or its work against MaxBackgroundLag, whichever is
// nearer.
func (l *linker) edgeLag() float64 {
	n := l.pending()
	return max(float64(n)/maxLinkQueue, l.edgeCost.of(n).Seconds()/l.maxLag().Seconds())
}

// process links a batch of jobs with one WAL append for all their edges. In turn (not
// early), the batch is the head of the queue in row order and each linked row becomes a
// temporal neighbour candidate of the next; early, the batch holds waiting jobs taken
// ahead of their turn, whose temporal candidates are the rows just before them, and
// their turn later only notes them as recent. Locks, in turn: l.mu to take the index
// lane's neighbours; st.mu shared to check the jobs and read their vectors; none for the
// search; st.mu shared per job to choose its edges (neighbours); st.cp shared around the
// WAL append and, inside it, st.mu shared to apply the edges (applyLinks).
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
		if !st.aliveLocked(j.row) || st.byRow[j.row].m.StoredAt.UnixNano() != j.version {
			if j.done != nil {
				close(j.done)
			}
			continue
		}
		live = append(live, j)
		rows = max(rows, int(j.row)+1)
		if _, ok := found[j.row]; ok {
			queries = append(queries, nil) // the index lane found its neighbours
		} else if st.byRow[j.row].hasVec {
			queries = append(queries, st.vectorOf(j.row))
		} else {
			queries = append(queries, nil)
		}
	}
	st.mu.RUnlock()
	// Dead rows keep their vectors, so ask for a few more candidates than needed.
	cands := st.similarMany(queries, rows, linkTopK+8)
	indexed := st.indexAnswers(rows)
	var plans []planned
	taken := make(map[uint32]int) // edges this batch gives each existing row so far
	i := 0
	for _, j := range batch {
		if i < len(live) && live[i] == j {
			near, fromIndex := found[j.row]
			if fromIndex {
				cands[i] = near
			}
			if (fromIndex || indexed) && strong(cands[i], j.row, j.threshold) < sparseLinks {
				cands[i] = l.withSparse(j.row, cands[i])
			}
			recent := l.recent
			if early {
				recent = rowsBefore(j.row, temporalNeighbours)
			}
			links, passedOver := l.neighbours(j, cands[i], recent, taken)
			plans = append(plans, planned{job: j, links: links, passedOver: passedOver})
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
	l.noteSparse(plans)
	entries := make([]wal.Entry, len(plans))
	for i, p := range plans {
		entries[i] = wal.Entry{Type: record.TypeLinks, Payload: record.AppendLinks(nil, p.job.id, p.job.version, p.links)}
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
	// Shared, not exclusive (applyLinks): recalls go on while the edges are added, and
	// a recall arriving meanwhile does not queue behind the batch.
	st.mu.RLock()
	for _, p := range plans {
		p.job.links = st.applyLinks(p.job.id, p.job.version, p.links)
	}
	st.mu.RUnlock()
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
// recent rows observed close in time. A candidate that already has maxLinkDegree edges,
// counting those taken counts for it earlier in the same batch, gets none: the new row
// links to the next candidates instead, and passedOver counts such candidates. It takes
// st.mu shared.
func (l *linker) neighbours(j *linkJob, cands []index.Scored, recent []uint32, taken map[uint32]int) (out []record.Link, passedOver int) {
	st := l.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	lm := st.byRow[j.row]
	if lm == nil {
		return nil, 0
	}
	for _, c := range cands {
		if len(out) == linkTopK {
			break
		}
		if c.Row == j.row || !st.aliveLocked(c.Row) || !st.byRow[c.Row].hasVec || c.Score < j.threshold {
			continue
		}
		if st.graph.Degree(c.Row)+taken[c.Row] >= maxLinkDegree {
			passedOver++
			continue
		}
		taken[c.Row]++
		out = append(out, record.Link{Target: st.byRow[c.Row].m.ID, Weight: min(c.Score, 1), Kind: uint8(graph.KindSimilarity)})
	}
	for i := len(recent) - 1; i >= 0; i-- {
		r := recent[i]
		if !st.aliveLocked(r) || r == j.row || hasTarget(out, st.byRow[r].m.ID) {
			continue // one edge per pair: a similar memory is not also a temporal neighbour
		}
		dt := lm.m.ObservedAt.Sub(st.byRow[r].m.ObservedAt).Abs()
		if dt > temporalWindow {
			continue
		}
		w := float32(temporalWeight * (1 - float64(dt)/float64(temporalWindow)))
		if w > 0 {
			out = append(out, record.Link{Target: st.byRow[r].m.ID, Weight: w, Kind: uint8(graph.KindTemporal)})
		}
	}
	return out, passedOver
}

func hasTarget(links []record.Link, id string) bool {
	for _, l := range links {
		if l.Target == id {
			return true
		}
	}
	return false
}

// linkQueued links the queued jobs that are ready, a batch at a time, pacing itself
// between batches; it returns false when the linker stops. Locks: l.mu only while taking
// a batch and while retiring it; process takes the state's locks itself.
func (l *linker) linkQueued() bool {
	for {
		select {
		case <-l.quit:
			return false
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
			return true
		}
		l.edgeCost.start()
		l.process(batch, false)
		l.mu.Lock()
		l.q = l.q[n:]
		for _, j := range batch {
			if j.done != nil && !j.early {
				l.waiters--
			}
		}
		l.mu.Unlock()
		l.pace(l.edgeCost.note(n), l.edgeLag, l.hurryEdges)
	}
}

// Sparse rows. The index's greedy search is weakest for a memory far from every cluster:
// such a memory has few in-links in the index, so a later search may never reach it, yet
// its one or two true neighbours are its only associations (a two-hop chain hidden among
// clustered memories lost an edge one time in six that way: benchmarks/assoc). The linker
// therefore remembers the most recent rows that got fewer than sparseLinks similarity
// edges, and a new row whose index candidates hold fewer than sparseLinks at its link
// threshold is also compared exactly with each of them: at most maxSparse dot products.
// Where most memories are isolated (random vectors) there is no structure for one to hide
// in, and the comparisons would be paid for nearly every row to find nothing: while more
// than sparseShareMax of the recently linked rows were sparse, they are skipped.
const (
	sparseLinks    = 2
	maxSparse      = 4096
	sparseShareMax = 0.25
	// sparseWindow: the linked and sparse counts are halved past this many rows, so the
	// share follows the recent rows.
	sparseWindow = 8192
)

// strong counts the candidates other than row at or above threshold.
func strong(cands []index.Scored, row uint32, threshold float32) int {
	n := 0
	for _, c := range cands {
		if c.Row != row && c.Score >= threshold {
			n++
		}
	}
	return n
}

// withSparse adds to row's candidates its exact similarity to every remembered sparse
// row, keeping the best max(len(cands), linkTopK+8), best first. Locks: l.mu to copy the
// sparse rows, then st.mu shared for the comparison.
func (l *linker) withSparse(row uint32, cands []index.Scored) []index.Scored {
	rows := l.sparseRows()
	if len(rows) == 0 {
		return cands
	}
	st := l.st
	qbuf, vbuf := make([]float32, st.dim), make([]float32, st.dim)
	keep := max(len(cands), linkTopK+8)
	out := slices.Clone(cands)
	index.SortScored(out)
	st.mu.RLock()
	if st.aliveLocked(row) && st.byRow[row].hasVec {
		q := st.vectorAt(row, qbuf)
		for _, r := range rows {
			if r == row || slices.ContainsFunc(cands, func(c index.Scored) bool { return c.Row == r }) ||
				!st.aliveLocked(r) || !st.byRow[r].hasVec {
				continue
			}
			out = keepBest(out, index.Scored{Row: r, Score: simd.Dot(q, st.vectorAt(r, vbuf))}, keep)
		}
	}
	st.mu.RUnlock()
	return out
}

// keepBest adds c to best (at most n candidates, best first by index.Better) if it
// ranks among the n best, dropping the last when best is full. Most of the thousands of
// sparse rows a candidate list is compared with rank below it, and cost one comparison
// here; sorting them all took as long as computing their similarities.
func keepBest(best []index.Scored, c index.Scored, n int) []index.Scored {
	if len(best) >= n && !index.Better(c, best[len(best)-1]) {
		return best
	}
	i, _ := slices.BinarySearchFunc(best, c, func(e, c index.Scored) int {
		if index.Better(e, c) {
			return -1
		}
		return 1
	})
	best = slices.Insert(best, i, c)
	return best[:min(len(best), n)]
}

// noteSparse remembers the rows of plans that got fewer than sparseLinks similarity
// edges, counting the similar memories that had no room for one (passedOver) as edges,
// dropping the oldest beyond maxSparse, and counts them. It takes l.mu.
func (l *linker) noteSparse(plans []planned) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range plans {
		n := p.passedOver
		for _, e := range p.links {
			if graph.EdgeKind(e.Kind) == graph.KindSimilarity {
				n++
			}
		}
		if n < sparseLinks {
			l.sparse = append(l.sparse, p.job.row)
			l.sparseSeen++
		}
	}
	l.linkedSeen += len(plans)
	if l.linkedSeen > sparseWindow {
		l.linkedSeen, l.sparseSeen = l.linkedSeen/2, l.sparseSeen/2
	}
	if over := len(l.sparse) - maxSparse; over > 0 {
		l.sparse = append(l.sparse[:0], l.sparse[over:]...)
	}
}

// sparseRows returns a copy of the remembered sparse rows, or nil while more than
// sparseShareMax of the recently linked rows were sparse. It takes l.mu, so a caller may
// hold st.mu.
func (l *linker) sparseRows() []uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if float64(l.sparseSeen) > sparseShareMax*float64(l.linkedSeen) {
		return nil
	}
	return slices.Clone(l.sparse)
}
