package membership

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// loop heartbeats and applies placement until the Member closes: on every change the
// watchers see, and at least every tenth of the TTL.
func (m *Member) loop() {
	tick := time.NewTicker(m.cfg.LeaseTTL / 10)
	defer tick.Stop()
	nextBeat := time.Now().Add(m.renewEvery())
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-tick.C:
		case <-m.nudge:
		}
		if !time.Now().Before(nextBeat) || m.beatNow.Swap(false) {
			// A heartbeat without an answer (the bucket electing a leader, a server that
			// is stopped) is given up soon and tried again at the next turn, so that it
			// lands shortly after the bucket answers again and placement, on this same
			// loop, is not held up meanwhile.
			ctx, cancel := context.WithTimeout(m.ctx, min(m.renewEvery(), max(m.cfg.LeaseTTL/10, 2*time.Second)))
			err := m.heartbeat(ctx)
			cancel()
			nextBeat = time.Now().Add(m.renewEvery())
			if err != nil && m.ctx.Err() == nil {
				m.log.Warn("heartbeat failed", "err", err)
				m.mu.Lock()
				m.beatOK = time.Time{}
				m.mu.Unlock()
				nextBeat = time.Now()
			}
		}
		m.place()
	}
}

// place starts taking the free partitions placed on this node, stops preparing those placed
// elsewhere, and releases the held ones placed on another live node.
func (m *Member) place() {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	cands := m.candidates(now)
	for p := range m.cfg.Partitions {
		order := rank(p, m.willing(p, cands, now))
		if len(order) == 0 {
			continue // no live node seen yet, not even this one: change nothing
		}
		target, w := order[0], m.workers[p]
		switch {
		case w == nil && target == m.cfg.NodeID && !now.Before(m.view.retry[p]):
			m.log.Debug("taking partition", "partition", p, "lease_free", m.leaseFree(p, now))
			m.startWorker(p)
		case w == nil || target == m.cfg.NodeID:
			if w != nil && w.ready && !w.freed && m.leaseFree(p, now) {
				m.log.Debug("lease looks free", "partition", p)
				w.freed = true
				close(w.free)
			}
		case !w.leading:
			w.stop() // placement moved p while this node was catching up
		case slices.Contains(m.view.nodes[target].Ready, p):
			w.stop() // the new owner caught up: release
		}
	}
}

// beatSoon has the loop write this node's record at once: its ready list changed.
func (m *Member) beatSoon() {
	m.beatNow.Store(true)
	m.poke()
}

// heartbeatAttempts bounds the writes of one heartbeat that find the record changed.
const heartbeatAttempts = 6

// heartbeat writes this node's record, keeping a draining flag another node set on it.
func (m *Member) heartbeat(ctx context.Context) error {
	m.beatMu.Lock()
	defer m.beatMu.Unlock()
	m.mu.Lock()
	rec := nodeRecord{NodeID: m.cfg.NodeID, HTTP: m.cfg.HTTP, GRPC: m.cfg.GRPC, Draining: m.draining, Started: m.start}
	for p, w := range m.workers {
		if w.ready {
			rec.Ready = append(rec.Ready, p)
		}
	}
	slices.Sort(rec.Ready)
	now := time.Now()
	for p, until := range m.refused {
		if now.Before(until) {
			rec.Refused = append(rec.Refused, p)
		} else {
			delete(m.refused, p)
		}
	}
	slices.Sort(rec.Refused)
	rev := m.nodeRev
	m.mu.Unlock()
	for attempt := range heartbeatAttempts {
		if attempt > 0 {
			// A Get may be answered by a replica a write behind (KV reads are direct):
			// give it a moment before the next Update by revision.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
			}
		}
		data, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		var newRev uint64
		if rev == 0 {
			newRev, err = m.nodes.Create(ctx, rec.NodeID, data)
		} else {
			newRev, err = m.nodes.Update(ctx, rec.NodeID, data, rev)
		}
		if err == nil {
			m.mu.Lock()
			m.nodeRev = newRev
			// This node is alive in its own view from its own write, not from the watch:
			// a watch stalls for seconds when the server holding its consumer goes away,
			// and a node that saw itself expire would place nothing.
			m.view.nodes[rec.NodeID] = seenNode{nodeRecord: rec, changed: time.Now()}
			if m.beatOK.IsZero() {
				m.beatOK = time.Now()
			}
			m.mu.Unlock()
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return err
		}
		// Someone else wrote the record: Drain, or an earlier run of this node whose
		// record has not expired yet (its draining flag is not this run's).
		e, err := m.nodes.Get(ctx, rec.NodeID)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
			rev = 0
		case err != nil:
			return err
		default:
			rev = e.Revision()
			var cur nodeRecord
			if json.Unmarshal(e.Value(), &cur) == nil && cur.Draining && cur.Started.Equal(m.start) {
				rec.Draining = true
				m.mu.Lock()
				m.draining = true
				m.mu.Unlock()
			}
		}
	}
	return errors.New("record kept changing under it")
}

// Drain marks node draining: placement gives its partitions to the other live nodes, and it
// releases each once placement moved it (the new owner catches up, then takes the lease).
// The flag lasts as long as the node's record: a drained node that restarts takes its share
// again.
func (m *Member) Drain(ctx context.Context, node string) error {
	if m.closed.Load() {
		return ErrClosed
	}
	if node == m.cfg.NodeID {
		m.mu.Lock()
		m.draining = true
		m.mu.Unlock()
		if err := m.heartbeat(ctx); err != nil {
			return fmt.Errorf("membership: drain %s: %w", node, err)
		}
		return nil
	}
	for range 5 {
		e, err := m.nodes.Get(ctx, node)
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			return fmt.Errorf("%w: %q", ErrUnknownNode, node)
		}
		if err != nil {
			return fmt.Errorf("membership: drain %s: %w", node, err)
		}
		var rec nodeRecord
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			return fmt.Errorf("membership: drain %s: its record: %w", node, err)
		}
		if rec.Draining {
			return nil
		}
		rec.Draining = true
		data, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		_, err = m.nodes.Update(ctx, node, data, e.Revision())
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return fmt.Errorf("membership: drain %s: %w", node, err)
		}
	}
	return fmt.Errorf("membership: drain %s: its record kept changing", node)
}
