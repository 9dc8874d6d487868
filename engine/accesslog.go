package engine

import (
	"sync"

	"github.com/engram-go/engram/engine/record"
	"github.com/engram-go/engram/engine/wal"
)

// accessLog batches reinforcement updates (access count, last access) and logs them in the
// background, so recall never waits for an fsync. a.mu guards pending only; flush
// appends to the WAL holding no lock, and only the edge lane (or close, after the lanes
// stopped) flushes, so records reach the log in the order their batches were taken.
type accessLog struct {
	mu      sync.Mutex
	pending map[string]record.Access
}

// note queues the reinforcement of each of rows of byRow. Caller holds st.mu (shared is
// enough), after updating their access: the values are read here, under a.mu, rather
// than passed in, so that whichever of two concurrent recalls of a memory notes last
// queues the later values (both recalls' updates happened before it), and the last record
// logged for a memory holds what the memory holds.
func (a *accessLog) note(byRow []*liveMemory, rows []uint32) {
	a.mu.Lock()
	if a.pending == nil {
		a.pending = map[string]record.Access{}
	}
	for _, r := range rows {
		lm := byRow[r]
		count, last := lm.acc.get()
		a.pending[lm.m.ID] = record.Access{ID: lm.m.ID, Count: count, Last: last}
	}
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
	batch := make([]record.Access, 0, len(a.pending))
	for _, x := range a.pending {
		batch = append(batch, x)
	}
	a.pending = nil
	a.mu.Unlock()
	if _, err := st.log.Append(wal.Entry{Type: record.TypeAccess, Payload: record.AppendAccess(nil, batch)}); err != nil {
		st.sp.e.cfg.Logger.Warn("reinforcement not logged", "space", st.sp.id, "err", st.checkLog(err))
	}
}
