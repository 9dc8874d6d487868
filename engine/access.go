package engine

import (
	"math"
	"sync/atomic"
	"time"
)

// access is a live memory's reinforcement: how many recalls returned it and when the last
// one did. Recall updates it holding st.mu shared, so concurrent recalls never wait for one
// another or for a reader to finish; it therefore lives in atomics beside the memory, which
// keeps no AccessCount or LastAccess of its own (memMeta): a new row's are set here from its
// Memory (applyRemember, decodeRecords), and liveMemory.memory puts them back in a copy.
//
// The two values are updated one after the other, so a reader may see a count without the
// last access that came with it; each recall notes the memory to the access log after both
// (accessLog.note reads them then), so the last record logged for a memory holds both.
type access struct {
	count atomic.Uint32
	last  atomic.Int64 // unix nanoseconds, neverAccessed when never recalled
}

// neverAccessed is a zero last access, as the records encode it (docs/formats/records.md),
// so the value held here is what a recovery reads back.
const neverAccessed = math.MinInt64

// set replaces the reinforcement, from a remember or a replayed access record.
func (a *access) set(count uint32, last time.Time) {
	a.count.Store(count)
	if last.IsZero() {
		a.last.Store(neverAccessed)
		return
	}
	a.last.Store(last.UnixNano())
}

// get returns the access count and the last access (zero when never recalled).
func (a *access) get() (uint32, time.Time) {
	count := a.count.Load()
	last := a.last.Load()
	if last == neverAccessed {
		return count, time.Time{}
	}
	return count, time.Unix(0, last).UTC()
}

// reinforce records one recall at now: the count goes up by one, and the last access
// becomes now unless a concurrent recall already set a later time.
func (a *access) reinforce(now time.Time) {
	a.count.Add(1)
	t := now.UnixNano()
	for {
		old := a.last.Load()
		if old != neverAccessed && old >= t {
			return
		}
		if a.last.CompareAndSwap(old, t) {
			return
		}
	}
}

// memory returns a copy of lm's memory with its reinforcement.
func (lm *liveMemory) memory() Memory {
	m := lm.m.memory()
	m.AccessCount, m.LastAccess = lm.acc.get()
	return m
}

// retention is lm's retention at now (retention.go).
func (lm *liveMemory) retention(now time.Time) float64 {
	count, last := lm.acc.get()
	return retentionOf(lm.m.ObservedAt, last, count, now)
}
