package engine

import (
	"time"
)

// minSlabWaste is the fewest stranded slab rows worth a renumbering.
const minSlabWaste = 4 * slabChunkRows

// slabWaste counts slab rows that hold no hot memory: vectors of memories demoted or
// forgotten while the space was open. The indexes keep using them (the HNSW index
// navigates through deleted nodes), so they are only reclaimed by renumber. Holds st.mu
// shared.
func (st *state) slabWaste() int {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.slab.allocatedRows() - st.hotCount
}

// renumber reopens the space from its checkpoint right after one, so rows are numbered
// afresh and the slab holds only hot vectors: this is what bounds a space's memory while
// it keeps demoting. It holds Space.mu exclusively: requests to the space wait for the
// reopen (the WAL tail is short, as a checkpoint just ran); other spaces are not affected.
func (s *Space) renumber(st *state) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st != st || st.failed.Load() {
		return
	}
	start := time.Now()
	if err := st.close(); err != nil {
		s.e.cfg.Logger.Warn("renumbering: closing the space", "space", s.id, "err", err)
	}
	fresh, _, err := openState(s)
	if err != nil {
		// The data is on disk; the next request opens the space again.
		s.st = nil
		s.e.openCount.Add(-1)
		s.e.cfg.Logger.Error("renumbering: reopening the space", "space", s.id, "err", err)
		return
	}
	s.st = fresh
	s.e.cfg.Logger.Info("space rows renumbered", "space", s.id, "took", time.Since(start).Round(time.Millisecond))
}
