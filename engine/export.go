package engine

import (
	"context"
	"sort"
)

// Export calls fn with every live memory of the space (all tiers), embeddings included, in
// id order, as of one instant: the memories are copied under the read lock, then handed
// out without it.
func (s *Space) Export(ctx context.Context, fn func(Memory) error) error {
	st, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.mu.RUnlock()
	st.mu.RLock()
	all := make([]Memory, 0, st.live)
	for _, row := range st.byID {
		all = append(all, st.memoryAt(row, true))
	}
	st.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	for _, m := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}
