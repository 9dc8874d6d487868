package engine

import (
	"context"
	"time"

	"github.com/engram-go/engram/engine/graph"
	"github.com/engram-go/engram/engine/index"
	"github.com/engram-go/engram/engine/wal"
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

// edgeLag is the edge lane's lag as a fraction of its bound, the queue at which remembers
// are refused.
func (l *linker) edgeLag() float64 {
	return float64(l.pending()) / maxLinkQueue
}

// process links a batch of jobs with one WAL append for all their edges. In turn (not
// early), the batch is the head of the queue in row order and each linked row becomes a
// temporal neighbour candidate of the next; early, the batch holds waiting jobs taken
// ahead of their turn, whose temporal candidates are the rows just before them, and
// their turn later only notes them as recent. Locks, in turn: l.mu to take the index
// lane's neighbours; st.mu shared to check the jobs and read their vectors; none for the
// search; st.mu shared per job to choose its edges (neighbours); st.cp shared around the
// WAL append and, inside it, st.mu exclusive to apply the edges.
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
// recent rows observed close in time. It takes st.mu shared.
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

func hasTarget(links []link, id string) bool {
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
}
