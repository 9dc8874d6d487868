package engine

import "sync"

// applier runs the exclusive section of concurrent remembers in batches. A group commit
// releases its writers all at once; if each then took st.mu in turn, every hand-over
// would wait for the next writer to be scheduled, and on a saturated machine that wait,
// not the few microseconds of work under the lock, would set the pace. Instead the first
// writer to arrive becomes the leader: it takes st.mu once for everything queued, applies
// it, wakes the others, and repeats until the queue is empty. Followers wait for their
// own request only, so nobody waits behind a chain of lock hand-overs.
type applier struct {
	mu      sync.Mutex
	queue   []*applyReq
	spare   []*applyReq // the queue the leader last drained, emptied for reuse
	leading bool        // a leader is draining the queue
}

// applyReq is one remember call's memories, after their records are durable.
type applyReq struct {
	ms    []Memory
	ok    []int     // indexes into ms to apply, in order
	fresh []bool    // by position in ok: the id was generated for this call
	vecs  []slabRow // by position in ok
	first uint64    // LSN of the first record
	rows  []uint32  // out: the rows, by position in ok
	res   []RememberResult
	done  sync.WaitGroup // a follower's: done by the leader once applied
}

// apply applies own and returns once it is applied; the caller holds own's id locks and st.cp
// shared, as applyRemember requires.
func (a *applier) apply(st *state, own *applyReq) {
	a.mu.Lock()
	if a.leading {
		own.done.Add(1)
		a.queue = append(a.queue, own)
		a.mu.Unlock()
		own.done.Wait()
		return
	}
	a.leading = true
	a.queue = append(a.queue, own)
	for {
		q := a.queue
		if len(q) == 0 {
			a.leading = false
			a.mu.Unlock()
			return
		}
		// The queues take turns: followers append to one while the leader drains the
		// other, so neither is allocated again.
		a.queue, a.spare = a.spare[:0], nil
		a.mu.Unlock()
		lockDeferring(&st.mu, deferFor) // writerlock.go: recalls arriving meanwhile go first
		for _, r := range q {
			for k, i := range r.ok {
				m := &r.ms[i]
				r.rows[k] = st.applyRemember(m, r.vecs[k], r.fresh[k])
				r.res[i] = RememberResult{Memory: *m, LSN: r.first + uint64(k)}
			}
		}
		live := st.live
		st.mu.Unlock()
		st.sp.memories.Store(int64(live))
		for _, r := range q {
			if r != own {
				r.done.Done()
			}
		}
		clear(q)
		a.mu.Lock()
		a.spare = q[:0]
	}
}
