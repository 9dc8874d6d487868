package index

import (
	"slices"

	"github.com/engram-go/engram/simd"
)

// hnswMaxLinks sizes the buffer a search copies a node's links into: layer 0 holds 2·M,
// so up to M = 32 without an allocation (linksCopy appends past it otherwise).
const hnswMaxLinks = 64

// Search returns up to k rows closest to q, best first (Score = dot product). ef is the
// candidate list size on layer 0 (<= 0 means the configured EfSearch; never below k):
// larger ef buys recall with time. Deleted rows and rows accept rejects are never
// returned but still route the search; with a very selective accept the search keeps
// walking until it has k accepted rows or runs out of graph, so a caller expecting to
// reject most rows is better served by TopKRows over its own candidate list.
func (h *HNSW) Search(q []float32, k, ef int, accept func(uint32) bool) []Scored {
	if k <= 0 || len(q) != h.dim {
		return nil
	}
	if ef <= 0 {
		ef = h.cfg.EfSearch
	}
	ef = max(ef, k)

	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.live.Load() == 0 {
		return nil
	}
	w := h.walkers.Get().(*walker)
	defer h.walkers.Put(w)
	// The walk compares int8 codes, as inserts do: a quarter of the bytes of the vectors, and
	// the walk reads a thousand or more rows for the ef it keeps. The ef rows found are then
	// rescored with the vectors, so the scores returned are exact and the k best are
	// ranked by them.
	if cap(w.query) < h.dim {
		w.query = make([]int8, h.dim)
	}
	qc := code{q: w.query[:h.dim]}
	qc.scale = simd.Quantize(q, qc.q)
	sim := func(n uint32) float32 { return approx(qc, h.codeOf(n)) }
	cur := Scored{Row: h.entry, Score: sim(h.entry)}
	for l := h.topLevel; l > 0; l-- {
		cur = h.greedy(sim, cur, l, w)
	}
	eligible := func(row uint32) bool {
		return !h.deleted[row] && (accept == nil || accept(row))
	}
	found := slices.Clone(h.searchLayer(sim, []Scored{cur}, ef, 0, w, eligible)) // searchLayer's are w's, which goes back to the pool
	h.rescore(q, found)
	return found[:min(len(found), k)]
}

// walker is the scratch of graph walks: the visited set, the frontier and result heaps,
// and a copy of the links of the node being expanded. The writer keeps one (under
// insertMu); searches take one from a pool, so that a walk allocates nothing.
type walker struct {
	// own says whether the walker's user holds insertMu, whose holder reads the link lists
	// in place (doc.go); others copy them under the stripe lock.
	own      bool
	vis      visitedSet
	frontier bestFirst
	results  []Scored
	links    [hnswMaxLinks]uint32
	query    []int8 // a search's query, quantised
}

// linksOf returns row's neighbours on layer l, in place or copied (see own); a copy is
// w's until its next call.
func (w *walker) linksOf(h *HNSW, row uint32, l int) []uint32 {
	if w.own {
		return h.linksAt(row, l)
	}
	return h.linksCopy(row, l, w.links[:0])
}

// greedy walks layer l from cur to the neighbour with the highest sim until no neighbour
// improves: the ef = 1 descent through the upper layers.
func (h *HNSW) greedy(sim func(uint32) float32, cur Scored, l int, w *walker) Scored {
	for improved := true; improved; {
		improved = false
		for _, n := range w.linksOf(h, cur.Row, l) {
			if s := sim(n); s > cur.Score {
				cur, improved = Scored{Row: n, Score: s}, true
			}
		}
	}
	return cur
}

// searchLayer is the best-first beam search of layer l (algorithm 2 of the paper) for the
// rows with the highest sim (the query's similarity to a row): it expands the most
// promising frontier node until the frontier cannot beat the ef-th best result, and
// returns up to ef results best first, in w's memory until its next search. With eligible
// set, only eligible nodes become results, while every node still extends the frontier.
func (h *HNSW) searchLayer(sim func(uint32) float32, entries []Scored, ef, l int, w *walker, eligible func(uint32) bool) []Scored {
	w.vis.reset(len(h.levels))
	results := topK{k: ef, heap: w.results[:0]}
	frontier := w.frontier[:0]
	for _, e := range entries {
		if !w.vis.visit(e.Row) {
			continue
		}
		frontier.push(e)
		if eligible == nil || eligible(e.Row) {
			results.push(e)
		}
	}
	for len(frontier) > 0 {
		c := frontier.pop()
		if results.full() && c.Score < results.worst().Score {
			break
		}
		for _, n := range w.linksOf(h, c.Row, l) {
			if !w.vis.visit(n) {
				continue
			}
			s := Scored{Row: n, Score: sim(n)}
			if results.full() && !Better(s, results.worst()) {
				continue
			}
			frontier.push(s)
			if eligible == nil || eligible(n) {
				results.push(s)
			}
		}
	}
	w.frontier = frontier[:0]
	found := results.sorted()
	w.results = found[:0]
	return found
}
