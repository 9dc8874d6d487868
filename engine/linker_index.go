package engine

import (
	"time"

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

// indexPending offers every row past the watermark to the index, a slice at a time, paced
// by the index's own lag and by the edges waiting for it. Per row: st.mu shared to read
// the watermark row, no lock around the insert (the index has its own), l.mu to publish
// the row's neighbours and move the watermark.
func (l *linker) indexPending() {
	st := l.st
	began, inserted := time.Now(), 0
	l.indexCost.start()
	defer func() { l.indexCost.note(inserted) }() // the last slice, however it ends
	defer l.pokeEdges()                           // edges of rows past the watermark wait for it to move
	for {
		select {
		case <-l.quit:
			return
		default:
		}
		st.mu.RLock()
		rows := len(st.byRow)
		next := l.watermark()
		alive := int(next) < rows && st.aliveLocked(next) && st.byRow[next].seg == nil
		// A row the index holds (loaded from the checkpoint, or promoted) is passed over.
		alive = alive && !st.hnsw.Contains(next)
		st.mu.RUnlock()
		if rows < hnswStartRows || int(next) >= rows {
			return
		}
		var near []index.Scored
		if hook := l.beforeInsert.Load(); hook != nil {
			(*hook)()
		}
		if alive {
			// The insert's own search yields the neighbours: keeping them costs nothing.
			near = st.hnsw.InsertNeighbours(next, linkTopK+8)
		}
		l.mu.Lock()
		if alive && l.want[next] { // not when the edge lane has linked it already
			l.near[next] = near
		}
		l.indexed = next + 1
		l.mu.Unlock()
		if inserted++; inserted == indexSlice {
			l.indexCost.note(inserted)
			l.pokeEdges()
			l.pace(began, l.indexLag, l.hurryIndex)
			began, inserted = time.Now(), 0
			l.indexCost.start()
		}
	}
}

// indexLagRows is the index lane's lag bound in rows: indexLagBytes of codes of dim bytes
// (262,144 rows at 768 dimensions), but at most three quarters of maxLinkQueue, since
// edges wait for the index and the lane must hurry before remembers are refused.
func indexLagRows(dim int) int {
	return min(max(hnswMinRows, indexLagBytes/max(dim, 1)), maxLinkQueue*3/4)
}

// indexLag is the index lane's lag as a fraction of its bound: the rows it has yet to take
// against indexLagRows (none while the space is too small to be indexed), or the edges
// waiting (for it) against theirs, whichever is nearer.
func (l *linker) indexLag() float64 {
	l.st.mu.RLock()
	rows := len(l.st.byRow)
	l.st.mu.RUnlock()
	l.mu.Lock()
	tail := rows - int(l.indexed)
	if rows < hnswStartRows {
		tail = 0 // no index yet: recall scans every row, as it should
	}
	queued := len(l.q)
	l.mu.Unlock()
	return max(float64(tail)/float64(indexLagRows(l.st.dim)), float64(queued)/maxLinkQueue)
}

// watermark is the first row not yet offered to the HNSW index.
func (l *linker) watermark() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.indexed
}
