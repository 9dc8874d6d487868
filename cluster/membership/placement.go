package membership

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/cespare/xxhash/v2"
)

// rank orders nodes for partition p by rendezvous hashing: highest score of (p, node id)
// first, ties broken by id. The first is p's place; a node leaving or joining changes the
// first only for the partitions where it is or becomes first.
func rank(p int, nodes []string) []string {
	type scored struct {
		id    string
		score uint64
	}
	s := make([]scored, len(nodes))
	prefix := strconv.Itoa(p) + "/"
	for i, id := range nodes {
		s[i] = scored{id, xxhash.Sum64String(prefix + id)}
	}
	slices.SortFunc(s, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x.id
	}
	return out
}

// candidates are the nodes placement may choose from: the live nodes that are not draining,
// or, when every live node drains, all live nodes (partitions stay where they are rather
// than lose their owner). Caller holds m.mu.
func (m *Member) candidates(now time.Time) []string {
	var all, ready []string
	for id := range m.view.nodes {
		rec, ok := m.alive(id, now)
		if !ok {
			continue
		}
		all = append(all, id)
		if !rec.Draining {
			ready = append(ready, id)
		}
	}
	if len(ready) == 0 {
		return all
	}
	return ready
}

// willing are the candidates that do not refuse partition p, or all of them when every
// one does. This node's refusals are its own map (they count before its record is
// written), other nodes' their records. Caller holds m.mu.
func (m *Member) willing(p int, cands []string, now time.Time) []string {
	out := make([]string, 0, len(cands))
	for _, id := range cands {
		if id == m.cfg.NodeID {
			if now.Before(m.refused[p]) {
				continue
			}
		} else if slices.Contains(m.view.nodes[id].Refused, p) {
			continue
		}
		out = append(out, id)
	}
	if len(out) == 0 {
		return cands
	}
	return out
}
