package engine

import (
	"context"
	"sort"
)

// Export calls fn with every live memory of the space, embeddings included, in id order,
// as of one instant: the records are copied under the read lock, then handed out without
// it, so writers are held up only for the copy. Vectors are read afterwards from the slab,
// whose rows never change while the space is open.
func (s *Space) Export(ctx context.Context, fn func(Memory) error) error {
	st, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.mu.RUnlock()
	type snap struct {
		row    uint32
		hasVec bool
		norm   float32
		m      Memory
	}
	st.mu.RLock()
	all := make([]snap, 0, st.live)
	for _, row := range st.byID {
		all = append(all, snap{row: row, hasVec: st.recs[row].hasVec, norm: st.norms[row], m: st.memoryAt(row, false)})
	}
	st.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool { return all[i].m.ID < all[j].m.ID })
	for i := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		m := all[i].m
		if all[i].hasVec {
			m.Embedding = make([]float32, st.dim)
			for j, x := range st.vectorOf(all[i].row) {
				m.Embedding[j] = x * all[i].norm
			}
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}
