package membership

import (
	"context"
	"encoding/json"
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

// view is what the watchers have seen of engram_nodes and engram_leases; Member.mu guards it.
type view struct {
	nodes  map[string]nodeRecord
	leases map[int]seenLease
	retry  map[int]time.Time // a failed attempt to take the partition: not again before
}

func newView() view {
	return view{nodes: map[string]nodeRecord{}, leases: map[int]seenLease{}, retry: map[int]time.Time{}}
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

// watch starts one watcher per bucket and returns once both have delivered the bucket's
// current contents.
func (m *Member) watch(ctx context.Context) error {
	for _, kv := range []jetstream.KeyValue{m.nodes, m.leases} {
		w, err := kv.WatchAll(m.ctx)
		if err != nil {
			return fmt.Errorf("membership: watch %s: %w", kv.Bucket(), err)
		}
		ready := make(chan struct{})
		m.wg.Go(func() { m.follow(kv, w, ready) })
		select {
		case <-ready:
		case <-ctx.Done():
			return fmt.Errorf("membership: watch %s: %w", kv.Bucket(), ctx.Err())
		}
	}
	return nil
}

// follow applies a watcher's updates to the view until the Member closes; ready is closed
// when the initial contents are in.
func (m *Member) follow(kv jetstream.KeyValue, w jetstream.KeyWatcher, ready chan struct{}) {
	defer w.Stop()
	initial := true
	for {
		select {
		case <-m.ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil {
				if initial {
					initial = false
					close(ready)
				}
				continue
			}
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
	if e.Operation() != jetstream.KeyValuePut {
		delete(m.view.nodes, e.Key())
		return
	}
	var rec nodeRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil || rec.NodeID != e.Key() {
		m.log.Warn("unreadable node record ignored", "key", e.Key(), "err", err)
		delete(m.view.nodes, e.Key())
		return
	}
	m.view.nodes[e.Key()] = rec
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

// leaseFree reports whether p's lease looks free: absent, or unchanged for longer than a
// TTL plus the margin (it has expired and the expiry marker is late). It only decides when
// to try Create, which the bucket arbitrates.
func (m *Member) leaseFree(p int, now time.Time) bool {
	l, ok := m.view.leases[p]
	return !ok || now.Sub(l.changed) > m.cfg.LeaseTTL+m.margin
}

// retryAt is when p may be tried again after a failed attempt to take it.
func (v view) retryAt(p int) time.Time { return v.retry[p] }
