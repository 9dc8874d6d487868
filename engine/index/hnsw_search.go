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
	sims := func(rows []uint32, out []float32) {
		for i, n := range rows {
			out[i] = simd.Dot(q, h.vector(n))
		}
	}
	w := h.walkers.Get().(*walker)
	defer h.walkers.Put(w)
	cur := h.start(sims)
	for l := h.topLevel; l > 0; l-- {
		cur = h.greedy(sims, cur, l, w)
	}
	eligible := func(row uint32) bool {
		return !h.deleted[row] && (accept == nil || accept(row))
	}
	found := h.searchLayer(sims, []Scored{cur}, ef, 0, w, eligible)
	return slices.Clone(found[:min(len(found), k)]) // found is w's, which goes back to the pool
}

// sims computes the similarities to the query of rows into out[:len(rows)].
type sims func(rows []uint32, out []float32)

// start is the entry point with its similarity.
func (h *HNSW) start(sim sims) Scored {
	var out [1]float32
	sim([]uint32{h.entry}, out[:])
	return Scored{Row: h.entry, Score: out[0]}
}

// walker is the scratch of graph walks: the visited set, the frontier and result heaps,
// and a node's links with their similarities. The writer keeps one (under insertMu);
// searches take one from a pool, so that a walk allocates nothing.
type walker struct {
	// own says whether the walker's user holds insertMu, whose holder reads the link lists
	// in place (doc.go); others copy them under the stripe lock.
	own      bool
	vis      visitedSet
	frontier bestFirst
	results  []Scored
	links    [hnswMaxLinks]uint32
	fresh    [hnswMaxLinks]uint32
	scores   [hnswMaxLinks]float32
}

// neighbours returns row's neighbours on layer l that the visited set has not seen yet
// (all of them when seen is false), marking them seen, with their similarities. The
// slices are w's until its next call.
func (w *walker) neighbours(h *HNSW, sim sims, row uint32, l int, seen bool) ([]uint32, []float32) {
	var links []uint32
	if w.own {
		links = h.linksAt(row, l)
	} else {
		links = h.linksCopy(row, l, w.links[:0])
	}
	fresh := w.fresh[:0]
	for _, n := range links {
		if !seen || w.vis.visit(n) {
			fresh = append(fresh, n)
		}
	}
	scores := w.scores[:]
	if len(fresh) > len(scores) {
		scores = make([]float32, len(fresh))
	}
	scores = scores[:len(fresh)]
	sim(fresh, scores)
	return fresh, scores
}

// greedy walks layer l from cur to the neighbour with the highest sim until no neighbour
// improves: the ef = 1 descent through the upper layers.
func (h *HNSW) greedy(sim sims, cur Scored, l int, w *walker) Scored {
	for improved := true; improved; {
		improved = false
		rows, scores := w.neighbours(h, sim, cur.Row, l, false)
		for i, n := range rows {
			if s := scores[i]; s > cur.Score {
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
func (h *HNSW) searchLayer(sim sims, entries []Scored, ef, l int, w *walker, eligible func(uint32) bool) []Scored {
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
		rows, scores := w.neighbours(h, sim, c.Row, l, true)
		for i, n := range rows {
			s := Scored{Row: n, Score: scores[i]}
			if results.full() && !better(s, results.worst()) {
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
