package engine

import (
	"github.com/engram-go/engram/engine/index"
)

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

// indexPending offers every row past the watermark to the index, a slice of indexSlice
// rows at a time, paced by the index's own lag and by the edges waiting for it. Per slice:
// st.mu shared once to see which of its rows are alive and hot; no lock around the inserts
// (the index has its own); l.mu per row to publish its neighbours and move the watermark;
// st.mu shared once more to take back out of the index any row of the slice that died or
// left the hot tier meanwhile, whose own Delete found nothing to delete. A look at st.mu
// per row instead queued the lane behind every writer waiting for the recalls in flight,
// about one recall's time a row under mixed load.
func (l *linker) indexPending() {
	st := l.st
	defer l.pokeEdges() // edges of rows past the watermark wait for it to move
	var alive [indexSlice]bool
	for {
		select {
		case <-l.quit:
			return
		default:
		}
		st.mu.RLock()
		rows := len(st.byRow)
		next := l.watermark()
		n := min(max(rows-int(next), 0), indexSlice)
		for i := range n {
			// A row the index holds (loaded from the checkpoint, or promoted) is passed over.
			alive[i] = l.indexable(next+uint32(i)) && !st.hnsw.Contains(next+uint32(i))
		}
		st.mu.RUnlock()
		if rows < hnswStartRows || n == 0 {
			return
		}
		l.indexCost.start()
		for i := range n {
			row := next + uint32(i)
			var near []index.Scored
			if hook := l.beforeInsert.Load(); hook != nil {
				(*hook)()
			}
			if alive[i] {
				// The insert's own search yields the neighbours: keeping them costs nothing.
				near = st.hnsw.InsertNeighbours(row, linkTopK+8)
			}
			l.mu.Lock()
			if alive[i] && l.want[row] { // not when the edge lane has linked it already
				l.near[row] = near
			}
			l.indexed = row + 1
			l.mu.Unlock()
		}
		st.mu.RLock()
		for i := range n {
			if alive[i] && !l.indexable(next+uint32(i)) {
				st.hnsw.Delete(next + uint32(i))
			}
		}
		st.mu.RUnlock()
		d := l.indexCost.note(n)
		l.pokeEdges()
		l.pace(d, l.indexLag, l.hurryIndex)
	}
}

// indexable reports whether row belongs in the index: alive and in the hot tier. Caller
// holds st.mu.
func (l *linker) indexable(row uint32) bool {
	return l.st.aliveLocked(row) && l.st.byRow[row].seg == nil
}

// indexLag is the index lane's lag as a fraction of its bound: the rows it has yet to take
// against three quarters of maxLinkQueue (edges wait for the index, and the lane must hurry
// before the edge queue's bound), or the rows MaxIndexLagBytes allows while the space is
// recalled (tailBounded) if that is fewer, their work against
// MaxBackgroundLag, or the edges waiting (for it) against theirs, whichever is nearest.
func (l *linker) indexLag() float64 {
	tail := l.indexTail()
	bound := maxLinkQueue * 3 / 4
	if l.tailBounded() {
		bound = min(l.maxIndexRows(), bound)
	}
	rows := float64(tail) / float64(max(bound, 1))
	work := l.indexCost.of(tail).Seconds() / l.maxLag().Seconds()
	return max(rows, work, float64(l.pending())/maxLinkQueue)
}

// indexTail is the number of rows the index has yet to take: none while the space is too
// small to be indexed, since recall then scans every row, as it should.
func (l *linker) indexTail() int {
	l.st.mu.RLock()
	rows := len(l.st.byRow)
	l.st.mu.RUnlock()
	if rows < hnswStartRows {
		return 0
	}
	return max(0, rows-int(l.watermark()))
}

// watermark is the first row not yet offered to the HNSW index.
func (l *linker) watermark() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.indexed
}
