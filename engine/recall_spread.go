package engine

import (
	"context"
	"fmt"
	"sort"

	"github.com/engram-go/engram/engine/graph"
)

// Spreading defaults of recall (docs/spreading-activation.md gives the reasoning).
const (
	// spreadingModeHops is the hop limit of mode = spreading, one more than hybrid's
	// graph.DefaultMaxHops: a recall that asks for associations may follow them further.
	spreadingModeHops = graph.DefaultMaxHops + 1
	// MaxSpreadHops bounds SpreadParams.MaxHops.
	MaxSpreadHops = 8
)

// recallSpreadParams are the graph parameters of a recall in mode. Seeds may be raised by
// a stronger association, so that every memory is scored by the stronger of its direct
// match and its activation (candidate.evidence).
func recallSpreadParams(mode RecallMode) graph.Params {
	p := graph.DefaultParams()
	p.RaiseSeeds = true
	if mode == ModeSpreading {
		p.MaxHops = spreadingModeHops
	}
	return p
}

// SpreadParams shape a Spread. Zero fields take the defaults recall uses in hybrid mode
// (docs/spreading-activation.md).
type SpreadParams struct {
	MaxHops    int     // 1..MaxSpreadHops, default 3
	Decay      float32 // multiplier per hop, (0, 1], default 0.5
	Threshold  float32 // activations below it are neither reported nor propagated, default 0.05
	MaxResults int     // most activations returned, 0 = all
}

// Activation is one memory reached by a Spread: its activation level, the number of hops
// and the path of memory ids from a starting memory to it, both ends included.
type Activation struct {
	ID    string
	Level float32
	Hops  int
	Path  []string
}

// Spread propagates activation from the given memories, each starting at activation 1,
// over the space's association graph with recall's rule (activation × edge weight × decay
// per hop, the strongest path kept), and returns every other memory it reaches, strongest
// first (ties by id). Forgotten memories neither appear nor pass activation on. An id not
// in the space is ErrNotFound; nothing in another space is ever reached.
func (s *Space) Spread(ctx context.Context, from []string, p SpreadParams) ([]Activation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(from) == 0 {
		return nil, fmt.Errorf("%w: at least one memory id to spread from is required", ErrInvalidInput)
	}
	gp, err := p.graphParams()
	if err != nil {
		return nil, err
	}
	st, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	st.mu.RLock()
	defer st.mu.RUnlock()
	seeds := make([]graph.Seed, 0, len(from))
	for _, id := range from {
		row, ok := st.rowOf(id)
		if !ok {
			return nil, fmt.Errorf("%w: %q in space %q", ErrNotFound, id, s.id)
		}
		seeds = append(seeds, graph.Seed{Node: row, Activation: 1})
	}
	res := st.graph.Spread(seeds, gp, st.aliveLocked)
	out := make([]Activation, 0, len(res.Nodes))
	for _, a := range res.Nodes {
		if a.Hops == 0 {
			continue
		}
		out = append(out, Activation{ID: st.byRow[a.Node].m.ID, Level: a.Activation, Hops: a.Hops, Path: st.ids(a.Path)})
	}
	// Spread ranks by row on ties; the API ranks by id, like recall.
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Level != out[j].Level {
			return out[i].Level > out[j].Level
		}
		return out[i].ID < out[j].ID
	})
	if p.MaxResults > 0 && len(out) > p.MaxResults {
		out = out[:p.MaxResults]
	}
	return out, nil
}

// graphParams checks p and fills its defaults.
func (p SpreadParams) graphParams() (graph.Params, error) {
	gp := graph.DefaultParams()
	switch {
	case p.MaxHops < 0 || p.MaxHops > MaxSpreadHops:
		return gp, fmt.Errorf("%w: max_hops must be 1-%d", ErrInvalidInput, MaxSpreadHops)
	case !(p.Decay >= 0 && p.Decay <= 1):
		return gp, fmt.Errorf("%w: decay must be in (0, 1]", ErrInvalidInput)
	case !(p.Threshold >= 0 && p.Threshold <= 1):
		return gp, fmt.Errorf("%w: threshold must be between 0 and 1", ErrInvalidInput)
	case p.MaxResults < 0:
		return gp, fmt.Errorf("%w: max_results must not be negative", ErrInvalidInput)
	}
	if p.MaxHops > 0 {
		gp.MaxHops = p.MaxHops
	}
	if p.Decay > 0 {
		gp.Decay = p.Decay
	}
	if p.Threshold > 0 {
		gp.Threshold = p.Threshold
	}
	return gp, nil
}

// Association is one edge of a memory: the memory at its other end, its weight in (0, 1]
// and why it exists ("similarity", "temporal", "consolidation" or "association").
type Association struct {
	TargetID string
	Weight   float32
	Kind     string
}

// Associations lists the edges of one memory, strongest first (ties by target id). An id
// not in the space is ErrNotFound. Edges to forgotten memories are never listed.
func (s *Space) Associations(id string) ([]Association, error) {
	st, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	st.mu.RLock()
	defer st.mu.RUnlock()
	row, ok := st.rowOf(id)
	if !ok {
		return nil, fmt.Errorf("%w: %q in space %q", ErrNotFound, id, s.id)
	}
	edges := st.graph.Neighbors(row)
	out := make([]Association, 0, len(edges))
	for _, e := range edges {
		if !st.aliveLocked(e.To) {
			continue
		}
		out = append(out, Association{TargetID: st.byRow[e.To].m.ID, Weight: e.Weight, Kind: edgeKindName(e.Kind)})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Weight != out[j].Weight {
			return out[i].Weight > out[j].Weight
		}
		return out[i].TargetID < out[j].TargetID
	})
	return out, nil
}
