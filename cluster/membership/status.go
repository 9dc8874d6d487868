package membership

import (
	"slices"
	"strings"
	"time"
)

// Owner returns the node holding p's lease and how to reach it; ok is false while p has no
// owner or its owner's record is gone (it stopped heartbeating: the lease is about to
// expire). For a partition this node holds, ok is true only while Holds(p) is.
func (m *Member) Owner(p int) (Owner, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w := m.workers[p]; w != nil && w.leading {
		if !time.Now().Before(w.deadline) {
			return Owner{}, false
		}
		return Owner{NodeID: m.cfg.NodeID, HTTP: m.cfg.HTTP, GRPC: m.cfg.GRPC}, true
	}
	l, ok := m.view.leases[p]
	if !ok || l.NodeID == m.cfg.NodeID {
		// A lease in this node's name that it does not hold is one it lost or is
		// still releasing: not an owner to send anything to.
		return Owner{}, false
	}
	n, ok := m.alive(l.NodeID, time.Now())
	if !ok {
		return Owner{}, false
	}
	return Owner{NodeID: n.NodeID, HTTP: n.HTTP, GRPC: n.GRPC}, true
}

// Nodes returns the live nodes and the nodes named by a lease, ordered by id.
func (m *Member) Nodes() []NodeStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	byID := map[string]*NodeStatus{}
	now := time.Now()
	for id := range m.view.nodes {
		rec, alive := m.alive(id, now)
		byID[id] = &NodeStatus{NodeID: id, HTTP: rec.HTTP, GRPC: rec.GRPC, Started: rec.Started, Alive: alive, Draining: rec.Draining}
	}
	for p := range m.cfg.Partitions {
		l, ok := m.view.leases[p]
		if !ok || m.stale(l.changed, now) {
			continue
		}
		n := byID[l.NodeID]
		if n == nil {
			n = &NodeStatus{NodeID: l.NodeID}
			byID[l.NodeID] = n
		}
		n.Partitions = append(n.Partitions, p)
	}
	out := make([]NodeStatus, 0, len(byID))
	for _, n := range byID {
		out = append(out, *n)
	}
	slices.SortFunc(out, func(a, b NodeStatus) int { return strings.Compare(a.NodeID, b.NodeID) })
	return out
}

// Partitions returns every partition's lease as the leases bucket shows it, by partition.
func (m *Member) Partitions() []PartitionStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	out := make([]PartitionStatus, m.cfg.Partitions)
	for p := range out {
		out[p].Partition = p
		if l, ok := m.view.leases[p]; ok && !m.stale(l.changed, now) {
			out[p].Owner, out[p].Revision, out[p].Since = l.NodeID, l.revision, l.Since
		}
	}
	return out
}
