package engine

import (
	"context"
	"fmt"
	"slices"
)

// MinConsolidateEpisodes is the fewest episodes ConsolidateInto forms a memory from.
const MinConsolidateEpisodes = 2

// ConsolidateInto forms the semantic memory id from the given episodes, as background
// consolidation forms one from a cluster (docs/consolidation.md): centroid vector, the
// most central episode's content, the episodes as citations and consolidation edges to
// them, all through the WAL. id must be a valid memory id not yet in the space; every
// episode must be a live episodic memory of the space with a vector. Fewer than
// MinConsolidateEpisodes episodes is ErrInsufficientEvidence.
func (s *Space) ConsolidateInto(ctx context.Context, episodes []string, id string) (Memory, error) {
	if err := ValidateID(id); err != nil {
		return Memory{}, fmt.Errorf("INTO: %w", err)
	}
	episodes = slices.Compact(slices.Sorted(slices.Values(episodes)))
	if len(episodes) < MinConsolidateEpisodes {
		return Memory{}, fmt.Errorf("%w: %d episodes selected; consolidation needs at least %d", ErrInsufficientEvidence, len(episodes), MinConsolidateEpisodes)
	}
	st, err := s.acquireForWrite()
	if err != nil {
		return Memory{}, err
	}
	defer s.mu.RUnlock()
	st.mu.RLock()
	if _, ok := st.rowOf(id); ok {
		st.mu.RUnlock()
		return Memory{}, fmt.Errorf("%w: memory %q exists already; CONSOLIDATE INTO names a new memory", ErrInvalidInput, id)
	}
	rows := make([]uint32, 0, len(episodes))
	for _, ep := range episodes {
		row, ok := st.rowOf(ep)
		if !ok {
			st.mu.RUnlock()
			return Memory{}, fmt.Errorf("%w: %q in space %q", ErrNotFound, ep, s.id)
		}
		if lm := st.byRow[row]; lm.m.Type != Episodic || !lm.hasVec {
			st.mu.RUnlock()
			return Memory{}, fmt.Errorf("%w: %q is not an episodic memory with a vector", ErrInvalidInput, ep)
		}
		rows = append(rows, row)
	}
	st.mu.RUnlock()
	sem, ok := st.semanticFrom(rows)
	if !ok {
		return Memory{}, fmt.Errorf("%w: an episode was forgotten meanwhile", ErrNotFound)
	}
	sem.ID = id
	return s.storeSemantic(ctx, st, sem)
}
