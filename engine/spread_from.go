package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/engram-go/engram/engine/graph"
)

// SpreadParams bound a SpreadFrom; zero fields take the defaults of docs/spreading-activation.md.
type SpreadParams struct {
	MaxHops   int     // 1..10
	Decay     float32 // (0, 1]
	Threshold float32 // (0, 1]
}

// SpreadResult is what activation reached from one memory: every memory other than the
// source whose activation reached the threshold, strongest first (ties by row, as
// graph.Spread orders them), each as a Hit with Direct false and its path from the source.
type SpreadResult struct {
	Hits    []Hit
	Hops    int // rounds that raised at least one activation
	Visited int // node expansions spent
	Took    time.Duration
}

// SpreadFrom runs spreading activation over the space's association graph from the memory
// id, with activation 1 at the source. It reads only: no access is recorded. ErrNotFound
// when the id is not a live memory of this space.
func (s *Space) SpreadFrom(ctx context.Context, id string, p SpreadParams) (SpreadResult, error) {
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return SpreadResult{}, err
	}
	switch {
	case p.MaxHops < 0 || p.MaxHops > 10:
		return SpreadResult{}, fmt.Errorf("%w: max_hops must be 1-10", ErrInvalidInput)
	case !(p.Decay >= 0 && p.Decay <= 1):
		return SpreadResult{}, fmt.Errorf("%w: decay must be in (0, 1]", ErrInvalidInput)
	case !(p.Threshold >= 0 && p.Threshold <= 1):
		return SpreadResult{}, fmt.Errorf("%w: threshold must be in (0, 1]", ErrInvalidInput)
	}
	st, err := s.acquire()
	if err != nil {
		return SpreadResult{}, err
	}
	defer s.mu.RUnlock()
	st.mu.RLock()
	defer st.mu.RUnlock()
	row, ok := st.byID[id]
	if !ok {
		return SpreadResult{}, fmt.Errorf("%w: %q in space %q", ErrNotFound, id, s.id)
	}
	gp := graph.DefaultParams()
	if p.MaxHops > 0 {
		gp.MaxHops = p.MaxHops
	}
	if p.Decay > 0 {
		gp.Decay = p.Decay
	}
	if p.Threshold > 0 {
		gp.Threshold = p.Threshold
	}
	r := st.graph.Spread([]graph.Seed{{Node: row, Activation: 1}}, gp, st.aliveLocked)
	out := SpreadResult{Hops: r.Hops, Visited: r.Visited}
	for _, a := range r.Nodes {
		if a.Node == row {
			continue
		}
		out.Hits = append(out.Hits, Hit{
			Memory:     st.memoryAt(a.Node, false),
			Score:      a.Activation,
			Activation: a.Activation,
			Path:       st.ids(a.Path),
		})
	}
	out.Took = time.Since(start)
	return out, nil
}
