package engine

import (
	"sync"
	"time"

	"github.com/engram-go/engram/engine/wal"
)

// accessLog batches reinforcement updates (access count, last access) and logs them in the
// background, so recall never waits for an fsync. a.mu guards pending only; flush
// appends to the WAL holding no lock (the counts it logs were applied under st.mu by
// reinforce, before they were recorded here).
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
