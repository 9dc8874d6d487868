package wal

import "time"

// groupSizer decides how long the log's lead lets a SyncAlways batch gather writers (Append and
// AppendBatch calls) before it writes and syncs it.
//
// Taking whatever waits the moment the previous fdatasync returns is right for a lone writer,
// but with many concurrent writers it splits them into one large group and a trickle of tiny
// ones. A batch of one or two writers costs a whole fdatasync, its latency and tens of
// microseconds of CPU, and the busier the machine the longer it takes; meanwhile the other
// writers finish their requests and pile up behind it, so the next batch holds nearly every
// writer and the CPUs wait idle on its sync. Letting a batch gather about half the writers
// seen recently keeps two groups alternating instead: one syncing while the other computes.
//
// The wait is bounded by the recent mean fdatasync latency, measured from the arrival of the
// batch's first record, so gathering at most doubles what a commit waits for the disk. A lone
// writer never waits (half of one writer is nothing to wait for), and no batch waits while the
// recent peak is under four writers. Writers are counted, not records: one AppendBatch of a
// thousand records is one writer that nobody else's batch should wait for.
type groupSizer struct {
	// writers is the recent peak of writers waiting at a release (those of the released
	// batch and those already queued behind it), decaying towards smaller samples.
	writers float64
	// syncMean is an exponential mean of fdatasync latencies.
	syncMean time.Duration
}

const (
	// writersDecay: a smaller sample moves the peak 1/writersDecay of the way down, so after a
	// burst the peak's excess over the new samples halves every 44 releases.
	writersDecay = 64
	// syncMeanWeight: a sync's latency moves the mean 1/syncMeanWeight of the way.
	syncMeanWeight = 8
	// minGroup is the smallest target worth waiting for.
	minGroup = 2
)

// released notes that a batch was released with waiting writers in it or queued behind it.
func (g *groupSizer) released(waiting int) {
	s := float64(waiting)
	if s >= g.writers {
		g.writers = s
		return
	}
	g.writers -= (g.writers - s) / writersDecay
}

// synced notes one fdatasync's latency.
func (g *groupSizer) synced(d time.Duration) {
	g.syncMean += (d - g.syncMean) / syncMeanWeight
}

// target is the number of writers a batch should gather before it is written, or 0 when it
// should be written as soon as it has any.
func (g *groupSizer) target() int {
	t := int(g.writers / 2)
	if t < minGroup || g.syncMean <= 0 {
		return 0
	}
	return t
}

// maxWait is how long after its first record arrived a batch below target may wait.
func (g *groupSizer) maxWait() time.Duration { return g.syncMean }

// gather lets the current batch fill to the sizer's target before flush takes it. Appenders
// do not wake the lead while the batch is below w.gathering (lead.go, joinLocked); the
// one that reaches it does, and otherwise the deadline ends the wait.
func (w *WAL) gather() {
	target := w.sizer.target()
	if target == 0 {
		return
	}
	w.mu.Lock()
	if n := w.cur.waiters; n == 0 || n >= target || w.failed != nil {
		w.mu.Unlock()
		return
	}
	deadline := w.cur.firstTime + int64(w.sizer.maxWait())
	w.gathering = target
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.gathering = 0
		w.mu.Unlock()
	}()
	for {
		wait := time.Duration(deadline - time.Now().UnixNano())
		if wait <= 0 {
			return
		}
		w.gatherTimer.Reset(wait)
		select {
		case <-w.kick:
			w.gatherTimer.Stop()
		case <-w.gatherTimer.C:
			return
		case <-w.closing:
			w.gatherTimer.Stop()
			return
		}
		w.mu.Lock()
		n := w.cur.waiters
		w.mu.Unlock()
		if n >= target {
			return
		}
	}
}
