package membership

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// worker takes and keeps one partition's lease: Prepare, Create, Lead, renewals, then
// Resign and, unless the lease was lost, its deletion. One goroutine does all of it, so a
// partition's hooks never overlap.
type worker struct {
	p       int
	ctx     context.Context // ends Prepare when placement moves the partition or on Close
	cancel  context.CancelFunc
	release chan struct{} // closed by stop: give the lease up
	stopped bool

	// Caught up while another node holds the lease; free is closed once it looks free.
	ready bool
	free  chan struct{}
	freed bool

	// Set once the lease is held; Member.mu guards them.
	leading  bool
	revision uint64
	since    time.Time
	deadline time.Time // monotonic: resign before this
}

// startWorker starts taking partition p. Caller holds m.mu.
func (m *Member) startWorker(p int) {
	ctx, cancel := context.WithCancel(m.ctx)
	w := &worker{p: p, ctx: ctx, cancel: cancel, release: make(chan struct{})}
	m.workers[p] = w
	m.wg.Go(func() { m.run(w) })
}

// stop asks w to give p up: cancel its Prepare, or resign and release the lease. Caller holds m.mu.
func (w *worker) stop() {
	if !w.stopped {
		w.stopped = true
		w.cancel()
		close(w.release)
	}
}

func (m *Member) run(w *worker) {
	defer func() {
		w.cancel()
		m.mu.Lock()
		delete(m.workers, w.p)
		m.mu.Unlock()
		m.poke()
	}()
	if ok, again := m.acquire(w); !ok {
		m.mu.Lock()
		m.view.retry[w.p] = time.Now().Add(again)
		m.mu.Unlock()
		return
	}
	m.hooks.Lead(w.p)
	lost := m.keep(w)
	m.mu.Lock()
	w.leading = false
	rev := w.revision
	m.mu.Unlock()
	m.hooks.Resign(w.p)
	if lost {
		m.losses.Add(1)
		m.log.Warn("lease lost", "partition", w.p)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.LeaseTTL)
	defer cancel()
	if err := m.leases.Delete(ctx, leaseKey(w.p), jetstream.LastRevision(rev)); err != nil {
		m.log.Warn("lease release failed; it expires within its TTL", "partition", w.p, "err", err)
	}
	m.releases.Add(1)
	m.log.Info("lease released", "partition", w.p)
}

// acquire runs Prepare, then creates p's lease if placement still gives p to this node.
// While another node holds the lease, this node catches up first, lists p as ready in its
// record and waits: the holder releases p when it sees that, and a second Prepare picks up
// what it wrote in between, so the partition is without a writer only that long. When it
// fails, again is how long placement waits before it tries once more.
func (m *Member) acquire(w *worker) (ok bool, again time.Duration) {
	again = m.renewEvery()
	if !m.prepare(w) {
		return false, again
	}
	m.mu.Lock()
	if w.stopped {
		m.mu.Unlock()
		return false, again
	}
	if !m.leaseFree(w.p, time.Now()) {
		m.log.Debug("caught up, waiting for the lease", "partition", w.p)
		w.ready, w.free = true, make(chan struct{})
		m.mu.Unlock()
		m.beatSoon()
		defer m.beatSoon()
		select {
		case <-w.free:
		case <-w.ctx.Done():
			return false, again
		}
		ok := m.prepare(w)
		m.mu.Lock()
		w.ready = false
		if !ok || w.stopped {
			m.mu.Unlock()
			return false, again
		}
	}
	m.mu.Unlock()
	since := time.Now().UTC()
	data, err := json.Marshal(leaseRecord{NodeID: m.cfg.NodeID, Since: since})
	if err != nil {
		return false, again
	}
	sent := time.Now()
	ctx, cancel := context.WithTimeout(w.ctx, m.cfg.LeaseTTL-m.margin)
	rev, err := m.create(ctx, w.p, data)
	cancel()
	if errors.Is(err, jetstream.ErrKeyExists) {
		// The view saw the lease free before the bucket did (an expiry not yet applied
		// by the bucket's leader): ask again soon.
		m.log.Debug("lease still held", "partition", w.p)
		return false, m.cfg.LeaseTTL / 10
	}
	if err != nil {
		// No answer, or the worker stopped while waiting for one: the Create may have
		// landed all the same, and a lease nobody knows it holds leaves the partition
		// without a writer for a whole TTL. Read it back: one in this node's name with
		// this attempt's since is this attempt's.
		landed, ok := m.landed(w.p, since)
		m.mu.Lock()
		stopped := w.stopped
		m.mu.Unlock()
		switch {
		case ok && stopped:
			m.releaseUnused(w.p, landed)
		case ok:
			m.log.Info("lease create answered late; it landed", "partition", w.p, "err", err)
			rev, err = landed, nil
		default:
			// Most often the bucket has no leader (an election after a server was
			// lost): asking again soon takes the lease shortly after it has one.
			m.log.Warn("lease create failed", "partition", w.p, "err", err)
		}
		if err != nil {
			return false, m.cfg.LeaseTTL / 10
		}
	}
	m.mu.Lock()
	w.leading, w.revision, w.since, w.deadline = true, rev, since, sent.Add(m.cfg.LeaseTTL-m.margin)
	m.mu.Unlock()
	m.acquisitions.Add(1)
	m.log.Info("lease acquired", "partition", w.p, "revision", rev)
	return true, 0
}

// create writes this node's lease record for p if nobody holds the lease. When the view
// still shows another holder's record, unrenewed for longer than the TTL plus the margin
// (leaseFree), the record is replaced by revision: the bucket's compare-and-set makes that
// as safe as a Create — it fails if any renewal landed since — and, unlike a Create, it
// does not wait for the bucket's leader to expire the old key, which after the leader was
// lost with the holder came seconds late. Otherwise, or when the revision moved meanwhile
// (the key was deleted or expired, or renewed), it is a Create.
func (m *Member) create(ctx context.Context, p int, data []byte) (uint64, error) {
	m.mu.Lock()
	l, shown := m.view.leases[p]
	m.mu.Unlock()
	if shown {
		rev, err := m.leases.Update(ctx, leaseKey(p), data, l.revision)
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return rev, err
		}
	}
	return m.leases.Create(ctx, leaseKey(p), data)
}

// landed reads p's lease back and reports its revision if it holds this node's record of
// an acquisition at since. The read is a direct get any replica may answer: one behind
// says nothing landed, and the lease then expires unrenewed within its TTL, as it would
// without the read.
func (m *Member) landed(p int, since time.Time) (uint64, bool) {
	ctx, cancel := context.WithTimeout(m.ctx, min(m.renewEvery(), 2*time.Second))
	defer cancel()
	e, err := m.leases.Get(ctx, leaseKey(p))
	if err != nil {
		return 0, false
	}
	var rec leaseRecord
	if json.Unmarshal(e.Value(), &rec) != nil || rec.NodeID != m.cfg.NodeID || !rec.Since.Equal(since) {
		return 0, false
	}
	return e.Revision(), true
}

// releaseUnused deletes p's lease at revision rev, created by a worker that stopped before
// it learned so: nothing was led under it.
func (m *Member) releaseUnused(p int, rev uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.LeaseTTL)
	defer cancel()
	if err := m.leases.Delete(ctx, leaseKey(p), jetstream.LastRevision(rev)); err != nil {
		m.log.Warn("lease created while giving the partition up; deleting it failed, it expires within its TTL", "partition", p, "err", err)
		return
	}
	m.log.Info("lease created while giving the partition up; deleted", "partition", p)
}

// prepare runs the Prepare hook, logging a failure that is not a cancellation.
func (m *Member) prepare(w *worker) bool {
	err := m.hooks.Prepare(w.ctx, w.p)
	if err != nil && w.ctx.Err() == nil {
		m.log.Warn("prepare failed", "partition", w.p, "err", err)
	}
	return err == nil && w.ctx.Err() == nil
}

// keep renews w's lease every third of the TTL until it is to be released (false) or is
// lost (true): a renewal found it taken or gone, or none succeeded before the deadline.
func (m *Member) keep(w *worker) (lost bool) {
	data, err := json.Marshal(leaseRecord{NodeID: m.cfg.NodeID, Since: w.since})
	if err != nil {
		return true
	}
	next := time.Now().Add(m.renewEvery())
	for {
		m.mu.Lock()
		deadline, rev := w.deadline, w.revision
		m.mu.Unlock()
		wake := time.NewTimer(min(time.Until(next), time.Until(deadline)))
		select {
		case <-w.release:
			wake.Stop()
			return false
		case <-m.closing:
			wake.Stop()
			return false
		case <-wake.C:
		}
		if !time.Now().Before(deadline) {
			return true
		}
		sent := time.Now()
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		newRev, err := m.leases.Update(ctx, leaseKey(w.p), data, rev)
		cancel()
		switch {
		case err == nil:
			m.mu.Lock()
			w.revision, w.deadline = newRev, sent.Add(m.cfg.LeaseTTL-m.margin)
			m.mu.Unlock()
			next = sent.Add(m.renewEvery())
		case errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			switch m.adoptRenewal(w, rev) {
			case lostLease:
				return true
			case adopted:
				next = time.Now()
			case unknown:
				next = time.Now().Add(m.cfg.LeaseTTL / 10)
			}
		default:
			// No answer: the renewal may or may not have landed. Retry soon; the
			// deadline still stands from the last renewal known to have landed.
			m.log.Warn("lease renewal failed", "partition", w.p, "err", err)
			next = time.Now().Add(m.cfg.LeaseTTL / 10)
		}
	}
}

// adoption is what adoptRenewal found.
type adoption int

const (
	adopted   adoption = iota // this worker's renewal had landed; its revision is taken
	lostLease                 // the lease is someone else's or gone
	unknown                   // no answer, or a replica behind the mismatch: ask again
)

// adoptRenewal handles a revision mismatch on renewing at revision rev: if the lease holds
// this worker's record at a later revision, a renewal whose answer was lost landed, and its
// revision is adopted (the deadline stays that of the last renewal known to have landed,
// which is earlier). A record of another holder, or none, means the lease is lost. KV reads
// are served by any replica, so one not past rev yet decides nothing.
func (m *Member) adoptRenewal(w *worker, rev uint64) adoption {
	m.mu.Lock()
	deadline := w.deadline
	m.mu.Unlock()
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	e, err := m.leases.Get(ctx, leaseKey(w.p))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
		return lostLease
	case err != nil || e.Revision() <= rev:
		return unknown
	}
	var rec leaseRecord
	if json.Unmarshal(e.Value(), &rec) != nil || rec.NodeID != m.cfg.NodeID || !rec.Since.Equal(w.since) {
		return lostLease
	}
	m.mu.Lock()
	w.revision = e.Revision()
	m.mu.Unlock()
	return adopted
}

// Holds reports whether this node holds p's lease and its deadline has not passed: what a
// node checks before serving p as its owner.
func (m *Member) Holds(p int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.workers[p]
	return w != nil && w.leading && time.Now().Before(w.deadline)
}
