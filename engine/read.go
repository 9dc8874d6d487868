package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/engram-go/engram/engine/record"
	"github.com/engram-go/engram/engine/tier"
	"github.com/engram-go/engram/engine/wal"
)

// Get returns one memory with its embedding.
func (s *Space) Get(id string) (Memory, error) {
	st, err := s.acquire()
	if err != nil {
		return Memory{}, err
	}
	defer s.mu.RUnlock()
	st.mu.RLock()
	defer st.mu.RUnlock()
	row, ok := st.rowOf(id)
	if !ok {
		return Memory{}, fmt.Errorf("%w: %q in space %q", ErrNotFound, id, s.id)
	}
	return st.memoryAt(row, true), nil
}

// Forget deletes a memory. It returns after the tombstone is durable (per sync mode);
// ErrNotFound when the id does not exist.
func (s *Space) Forget(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st, err := s.acquireForWrite()
	if err != nil {
		return err
	}
	defer s.mu.RUnlock()
	defer st.lockIDs(id)()
	st.mu.RLock()
	_, ok := st.rowOf(id)
	st.mu.RUnlock()
	if !ok {
		return fmt.Errorf("%w: %q in space %q", ErrNotFound, id, s.id)
	}
	st.cp.RLock()
	defer st.cp.RUnlock()
	if _, err := st.log.Append(wal.Entry{Type: record.TypeForget, Payload: record.AppendForget(nil, id)}); err != nil {
		return st.checkLog(err)
	}
	st.mu.Lock()
	st.applyForget(id)
	live := st.live
	st.mu.Unlock()
	st.reserved.Add(-1)
	s.memories.Store(int64(live))
	s.publish(EventForget, id, 0, nil)
	return nil
}

// ListOptions page through a space's memories in id order.
type ListOptions struct {
	Tier           string // "hot", "warm", "cold", "all" or "" (all)
	Offset, Limit  int    // Limit 0 = 100
	WithEmbeddings bool
}

// ListResult is one page plus the per-tier totals.
type ListResult struct {
	Memories        []Memory
	Total           int // memories matching the tier filter
	Hot, Warm, Cold int
}

// List returns memories sorted by id.
func (s *Space) List(opts ListOptions) (ListResult, error) {
	switch opts.Tier {
	case "", "all", "hot", "warm", "cold":
	default:
		return ListResult{}, fmt.Errorf("%w: tier must be hot, warm, cold or all", ErrInvalidInput)
	}
	if opts.Offset < 0 || opts.Limit < 0 {
		return ListResult{}, fmt.Errorf("%w: offset and limit must not be negative", ErrInvalidInput)
	}
	if opts.Limit == 0 {
		opts.Limit = 100
	}
	st, err := s.acquire()
	if err != nil {
		return ListResult{}, err
	}
	defer s.mu.RUnlock()
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := ListResult{Hot: st.hotCount}
	for _, sg := range st.segs {
		if sg.kind == tier.KindCold {
			out.Cold += sg.live
		} else {
			out.Warm += sg.live
		}
	}
	rows := make([]uint32, 0, st.live)
	for row, lm := range st.byRow {
		if lm != nil && (opts.Tier == "" || opts.Tier == "all" || opts.Tier == lm.tier().String()) {
			rows = append(rows, uint32(row))
		}
	}
	slices.SortFunc(rows, func(a, b uint32) int { return strings.Compare(st.byRow[a].m.ID, st.byRow[b].m.ID) })
	out.Total = len(rows)
	if opts.Offset >= len(rows) {
		return out, nil
	}
	end := min(opts.Offset+opts.Limit, len(rows))
	for _, row := range rows[opts.Offset:end] {
		out.Memories = append(out.Memories, st.memoryAt(row, opts.WithEmbeddings))
	}
	return out, nil
}

// SearchHit is a lexical match.
type SearchHit struct {
	Memory Memory
	Score  float32
}

// Search runs a lexical (BM25) search over content.
func (s *Space) Search(query string, limit int) ([]SearchHit, error) {
	if strings.TrimSpace(query) == "" {
		return nil, fmt.Errorf("%w: query must not be empty", ErrInvalidInput)
	}
	if limit <= 0 {
		limit = 10
	}
	if limit > 1000 {
		return nil, fmt.Errorf("%w: limit must be at most 1000", ErrInvalidInput)
	}
	st, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	st.mu.RLock()
	defer st.mu.RUnlock()
	res := st.lex.Search(query, limit, st.aliveLocked)
	var out []SearchHit
	for _, h := range res.Hits {
		out = append(out, SearchHit{Memory: st.memoryAt(h.Row, false), Score: h.Score})
	}
	return out, nil
}

// aliveLocked reports whether row holds a live memory. Caller holds st.mu; index
// callbacks use it because st.mu is always taken before any index lock.
func (st *state) aliveLocked(row uint32) bool {
	return int(row) < len(st.byRow) && st.byRow[row] != nil
}
