package engine

import (
	"context"
	"sort"
)

// Export calls fn with every live memory of the space (all tiers), embeddings included, in
// id order, as of one instant: the memories are copied under the space's read locks, which
// are released before fn is first called, so a caller that writes to a slow client holds
// up nobody. Deleting the space ends the export: Export then returns an error wrapping
// ErrSpaceNotFound, and fn is not called again.
func (s *Space) Export(ctx context.Context, fn func(Memory) error) error {
	ctx, cancel := s.WithLifetime(ctx)
	defer cancel()
	all, err := s.snapshot()
	if err != nil {
		return err
	}
	for _, m := range all {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

// snapshot copies every live memory, sorted by id, holding s.mu and st.mu shared only
// while copying.
func (s *Space) snapshot() ([]Memory, error) {
	st, err := s.acquire()
	if err != nil {
		return nil, err
	}
	st.mu.RLock()
	all := make([]Memory, 0, st.live)
	for row, lm := range st.byRow {
		if lm != nil {
			all = append(all, st.memoryAt(uint32(row), true))
		}
	}
	st.mu.RUnlock()
	s.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	return all, nil
}
