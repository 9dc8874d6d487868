package engine

import (
	"sort"

	"github.com/engram-go/engram/engine/record"
	"github.com/engram-go/engram/engine/wal"
)

// Promotion: a recalled warm or cold memory moves back to the hot tier, in place (same
// row, same edges), through a WAL record so that recovery repeats it.

// promote queues a recalled warm or cold memory for promotion to the hot tier. Caller may
// hold st.mu (l.mu is always taken after it).
func (l *linker) promote(id string) {
	l.mu.Lock()
	if l.promos == nil {
		l.promos = map[string]bool{}
	}
	l.promos[id] = true
	l.mu.Unlock()
	l.poke()
}

// runPromotions promotes the queued memories, from the edge lane; it takes l.mu only to
// take the queue.
func (l *linker) runPromotions() {
	l.mu.Lock()
	ids := make([]string, 0, len(l.promos))
	for id := range l.promos {
		ids = append(ids, id)
	}
	l.promos = nil
	l.mu.Unlock()
	sort.Strings(ids)
	for _, id := range ids {
		if err := l.st.promoteNow(id); err != nil {
			l.st.sp.e.cfg.Logger.Warn("promotion failed", "space", l.st.sp.id, "memory", id, "err", err)
			return
		}
	}
}

// promoteNow moves one memory to the hot tier in place (same row, same edges), logged so
// that recovery repeats it. Locks, in order: the memory's id lock throughout; st.mu shared
// to look it up; st.cp shared from the append to the apply (doc.go), with st.mu exclusive
// for the apply.
func (st *state) promoteNow(id string) error {
	defer st.lockIDs(id)()
	st.mu.RLock()
	row, ok := st.rowOf(id)
	if !ok || st.byRow[row].seg == nil {
		st.mu.RUnlock()
		return nil
	}
	version := st.byRow[row].m.StoredAt.UnixNano()
	rows := len(st.byRow)
	st.mu.RUnlock()
	st.slab.reserve(int(row), int(row)+1)
	st.cp.RLock()
	if _, err := st.log.Append(wal.Entry{Type: record.TypePromote, Payload: record.AppendPromote(nil, id, version)}); err != nil {
		st.cp.RUnlock()
		return st.checkLog(err)
	}
	st.mu.Lock()
	moved := st.applyPromote(id, version)
	st.mu.Unlock()
	st.cp.RUnlock()
	if moved && rows >= hnswStartRows {
		st.hnsw.Insert(row) // idempotent: the index lane may insert it as well
	}
	return nil
}

// applyPromote copies a segment memory's vector into the slab at its row and marks it
// deleted in its segment. Caller holds st.mu.
func (st *state) applyPromote(id string, version int64) bool {
	row, ok := st.rowOf(id)
	if !ok {
		return false
	}
	lm := st.byRow[row]
	if lm.seg == nil || lm.m.StoredAt.UnixNano() != version {
		return false
	}
	st.slab.reserve(int(row), int(row)+1)
	lm.seg.s.Vector(int(lm.idx), st.slab.row(row))
	st.slab.encode(row)
	lm.seg.deleted.Set(int(lm.idx))
	lm.seg.live--
	lm.seg, lm.idx = nil, -1
	st.hotCount++
	return true
}
