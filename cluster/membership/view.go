package membership

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// nodeRecord is a node's value in engram_nodes.
type nodeRecord struct {
	NodeID   string    `json:"node_id"`
	HTTP     string    `json:"http"`
	GRPC     string    `json:"grpc"`
	Draining bool      `json:"draining"`
	Started  time.Time `json:"started"`
	// Ready lists the partitions placed on the node that it has caught up with while
	// another node still holds their lease: the holder releases them once listed here.
	Ready []int `json:"ready,omitempty"`
	// Refused lists the partitions the node handed back because it could not serve them
	// (Member.Refuse): placement passes over it for those while they are listed.
	Refused []int `json:"refused,omitempty"`
}

// leaseRecord is a lease's value in engram_leases.
type leaseRecord struct {
	NodeID string    `json:"node_id"`
	Since  time.Time `json:"since"`
}

// seenLease is a lease as the watcher last saw it.
type seenLease struct {
	leaseRecord
	revision uint64
	changed  time.Time // local monotonic time the watcher saw this revision
}

// seenNode is a node record as the watcher last saw it.
type seenNode struct {
	nodeRecord
	changed time.Time // local monotonic time the watcher saw this revision
	// expired: the bucket's expiry marker for the record arrived (it was not rewritten
	// for a TTL); alive decides what that means.
	expired bool
}

// view is what the watchers have seen of engram_nodes and engram_leases; Member.mu guards it.
type view struct {
	nodes  map[string]seenNode
	leases map[int]seenLease
	retry  map[int]time.Time // a failed attempt to take the partition: not again before
}

func newView() view {
	return view{nodes: map[string]seenNode{}, leases: map[int]seenLease{}, retry: map[int]time.Time{}}
}

// leaseKey is partition p's key in engram_leases.
func leaseKey(p int) string { return "p" + strconv.Itoa(p) }

// parseLeaseKey is the inverse of leaseKey.
func parseLeaseKey(key string) (int, bool) {
	n, ok := strings.CutPrefix(key, "p")
	if !ok {
		return 0, false
	}
	p, err := strconv.Atoi(n)
	return p, err == nil && p >= 0 && strconv.Itoa(p) == n
}

// watch starts one follower per bucket and returns once both have delivered the bucket's
// current contents.
func (m *Member) watch(ctx context.Context) error {
	for _, kv := range []jetstream.KeyValue{m.nodes, m.leases} {
		w, stop, err := m.openWatch(ctx, kv, 0)
		if err != nil {
			return fmt.Errorf("membership: watch %s: %w", kv.Bucket(), err)
		}
		ready := make(chan struct{})
		m.wg.Go(func() { m.follow(kv, w.Updates(), stop, ready) })
		select {
		case <-ready:
		case <-ctx.Done():
			return fmt.Errorf("membership: watch %s: %w", kv.Bucket(), ctx.Err())
		}
	}
	return nil
}

// openWatch starts a watcher of kv from revision from (0: the current contents), giving
// up when ctx ends before the server answers. The watcher lives until stop is called or the
// Member closes: its subscription is bound to the context it is created with, so that
// context cannot be ctx.
func (m *Member) openWatch(ctx context.Context, kv jetstream.KeyValue, from uint64) (jetstream.KeyWatcher, context.CancelFunc, error) {
	wctx, stop := context.WithCancel(m.ctx)
	abandon := context.AfterFunc(ctx, stop)
	var opts []jetstream.WatchOpt
	if from > 0 {
		opts = append(opts, jetstream.ResumeFromRevision(from))
	}
	w, err := kv.WatchAll(wctx, opts...)
	if !abandon() {
		err = errors.Join(err, ctx.Err()) // ctx ended meanwhile: the watcher is gone with it
	}
	if err != nil {
		if w != nil {
			w.Stop()
		}
		stop()
		return nil, nil, err
	}
	return w, stop, nil
}

// follow applies a bucket's updates to the view until the Member closes; ready is closed
// when the initial contents are in.
//
// A watcher is an ordered consumer held by one server. When that server dies the watcher
// delivers nothing until the client library notices, by missed idle heartbeats, and
// recreates it: 15-20 s. A healthy watcher is never silent that long, since this node
// rewrites its record (and every holder its leases) every third of the TTL, so follow
// opens a second watcher from the revision after the last one applied once the first has
// been silent for half the TTL, and keeps whichever delivers. Entries are applied only in
// increasing revision (the bucket's stream sequence), so two watchers, or a recreated one
// that repeats what the first delivered, never move the view backwards.
func (m *Member) follow(kv jetstream.KeyValue, updates <-chan jetstream.KeyValueEntry, stop context.CancelFunc, ready chan struct{}) {
	defer func() { stop() }()
	silence := m.cfg.LeaseTTL / 2
	check := time.NewTicker(silence / 4)
	defer check.Stop()
	var last uint64 // revision of the last entry applied
	heard := time.Now()
	var retry time.Time // a reopening failed: not again before
	failures := 0
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-check.C:
			now := time.Now()
			if (now.Sub(heard) < silence && updates != nil) || now.Before(retry) {
				continue
			}
			ctx, cancel := context.WithTimeout(m.ctx, silence)
			nw, nstop, err := m.openWatch(ctx, kv, last+1)
			cancel()
			if err != nil {
				if failures++; failures == 1 && m.ctx.Err() == nil {
					m.log.Warn("watch silent, reopening it failed; retrying", "bucket", kv.Bucket(), "silent", now.Sub(heard).Round(time.Millisecond), "err", err)
				}
				retry = time.Now().Add(silence / 2)
				continue
			}
			m.log.Info("watch silent, reopened", "bucket", kv.Bucket(), "silent", time.Since(heard).Round(time.Millisecond), "from", last+1, "failed_attempts", failures)
			failures = 0
			stop()
			if updates != nil {
				// The old watcher's delivery blocks on a full channel; drain it until
				// its subscription, now cancelled, closes it.
				go func(old <-chan jetstream.KeyValueEntry) {
					for range old {
					}
				}(updates)
			}
			stop, updates = nstop, nw.Updates()
			heard = time.Now()
		case e, ok := <-updates:
			if !ok {
				updates = nil // closed under it: the next check reopens it
				continue
			}
			heard = time.Now()
			if e == nil {
				if ready != nil {
					close(ready)
					ready = nil
				}
				continue
			}
			if e.Revision() <= last {
				continue
			}
			last = e.Revision()
			m.mu.Lock()
			if kv == m.nodes {
				m.applyNode(e)
			} else {
				m.applyLease(e)
			}
			m.mu.Unlock()
			m.poke()
		}
	}
}

// poke wakes the loop without blocking.
func (m *Member) poke() {
	select {
	case m.nudge <- struct{}{}:
	default:
	}
}

func (m *Member) applyNode(e jetstream.KeyValueEntry) {
	switch e.Operation() {
	case jetstream.KeyValuePurge: // the expiry marker: the record was not rewritten for a TTL
		if n, ok := m.view.nodes[e.Key()]; ok {
			n.expired = true
			m.view.nodes[e.Key()] = n
		}
		return
	case jetstream.KeyValueDelete: // a node that stopped gracefully
		delete(m.view.nodes, e.Key())
		return
	}
	var rec nodeRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil || rec.NodeID != e.Key() {
		m.log.Warn("unreadable node record ignored", "key", e.Key(), "err", err)
		delete(m.view.nodes, e.Key())
		return
	}
	m.view.nodes[e.Key()] = seenNode{nodeRecord: rec, changed: time.Now()}
	if rec.NodeID == m.cfg.NodeID && rec.Started.Equal(m.start) {
		// This run's record: a Drain by another node shows here first.
		m.nodeRev = max(m.nodeRev, e.Revision())
		if rec.Draining && !m.draining {
			m.log.Info("node draining")
			m.draining = true
		}
	}
}

func (m *Member) applyLease(e jetstream.KeyValueEntry) {
	p, ok := parseLeaseKey(e.Key())
	if !ok || p >= m.cfg.Partitions {
		return
	}
	if e.Operation() != jetstream.KeyValuePut {
		delete(m.view.leases, p)
		return
	}
	var rec leaseRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		// Held by someone all the same: Create would fail on it until it expires.
		m.log.Warn("unreadable lease record", "key", e.Key(), "err", err)
	}
	m.view.leases[p] = seenLease{leaseRecord: rec, revision: e.Revision(), changed: time.Now()}
}

// stale reports whether a key last seen changing at changed has expired by now, whether or
// not its expiry marker has arrived: keys are rewritten every third of the TTL, and one
// unchanged for longer than the TTL plus the margin is gone. Markers can be late or missing
// (a stream leader lost with the node that stopped), so the view does not rely on them; it
// only decides when to try a Create, which the bucket arbitrates.
func (m *Member) stale(changed, now time.Time) bool {
	return now.Sub(changed) > m.cfg.LeaseTTL+m.margin
}

// alive reports whether node id counts as live for placement and forwarding. This node
// always does while it runs. Another node does while its record is current; one whose
// record aged past the TTL plus the margin, or expired on the servers, is dead only once
// this node's own heartbeats have been landing for a whole heartbeat interval. While
// engram_nodes takes no writes — its stream lost its leader, and an election takes 4-9 s
// — no node can rewrite its record, and aging alone would have the survivors take each
// other for dead and move partitions between themselves; once writes land again, every
// live node rewrites its record within that interval. A node cut off from the others
// keeps its last view meanwhile, which only decides which leases it tries to create:
// the bucket refuses them. Caller holds m.mu.
func (m *Member) alive(id string, now time.Time) (seenNode, bool) {
	n, ok := m.view.nodes[id]
	switch {
	case !ok:
		return n, false
	case id == m.cfg.NodeID, !n.expired && !m.stale(n.changed, now):
		return n, true
	}
	return n, m.beatOK.IsZero() || now.Sub(m.beatOK) < m.renewEvery()
}

// leaseFree reports whether p's lease looks free: absent or stale. Caller holds m.mu.
func (m *Member) leaseFree(p int, now time.Time) bool {
	l, ok := m.view.leases[p]
	return !ok || m.stale(l.changed, now)
}
