package index

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/engram-go/engram/simd"
)

// HNSWConfig tunes an HNSW graph. Zero fields take the defaults.
type HNSWConfig struct {
	// M is the number of links a node keeps on the upper layers; layer 0 keeps 2*M.
	// Default 16.
	M int
	// EfConstruction is the candidate list size while inserting. Default 200.
	EfConstruction int
	// EfSearch is the candidate list size of a search that passes ef <= 0. Default 64.
	EfSearch int
	// Seed drives the level draws: the same seed and insert order build the same graph.
	Seed int64
	// Codes, when set, gives a row's int8 code (simd.Quantize of the row's vector) and
	// its scale, for a store that keeps codes beside its vectors; the code must be there
	// before the row is inserted. Unset, the graph quantises and keeps its own.
	Codes func(row uint32) ([]int8, float32)
}

// Defaults of HNSWConfig.
const (
	DefaultHNSWM              = 16
	DefaultHNSWEfConstruction = 200
	DefaultHNSWEfSearch       = 64
)

// maxHNSWLevel caps level draws; with M = 16 a level above 12 has odds below 1e-14.
const maxHNSWLevel = 30

// hnswStripes is how many locks share the nodes' link lists: enough that concurrent
// searches and the insert rarely meet on one.
const hnswStripes = 64

func (c HNSWConfig) withDefaults() HNSWConfig {
	if c.M <= 1 {
		c.M = DefaultHNSWM
	}
	if c.EfConstruction <= 0 {
		c.EfConstruction = DefaultHNSWEfConstruction
	}
	if c.EfSearch <= 0 {
		c.EfSearch = DefaultHNSWEfSearch
	}
	return c
}

// HNSW is a hierarchical navigable small world graph (Malkov & Yashunin, 2018) over rows
// of an external vector store. The distance is 1 − dot, and the graph ranks by the dot
// product itself, which orders identically; Search rescores the rows its beam kept with
// vector(row), the stored L2-normalised embedding, so it reports the same Score as
// simd.Dot.
//
// Building and searching the graph compare int8 codes (simd.Quantize, one scale per row, taken
// when the row is inserted): an insert computes thousands of similarities, mostly to rows
// out of cache, and a code is a quarter of the vector's bytes and a quarter of the work
// (BenchmarkHNSWInsert). Its error, at most half a quantisation step per component, only
// sways which of two nearly equidistant nodes becomes a link or which is walked first; the
// scores searches return and the neighbours InsertNeighbours reports use the exact vectors.
//
// One writer at a time (Insert is serialised internally) and any number of concurrent
// searches. An insert computes its links without blocking searches and publishes each
// changed link list under the lock of that node's stripe; see doc.go for the invariants
// that make this safe.
type HNSW struct {
	dim       int
	cfg       HNSWConfig
	maxM      int // links per node on layers >= 1
	maxM0     int // links per node on layer 0
	levelMult float64
	vector    func(row uint32) []float32

	// insertMu serialises writers. Whoever holds it is the only goroutine that mutates
	// the graph, so it may read the graph without mu; it still takes mu to write.
	insertMu sync.Mutex
	rng      *rand.Rand
	w        writer // the scratch of the insert in progress
	// codes holds, per row with stride dim, the row's vector quantised when it was
	// inserted, and scales its scale (unless cfg.Codes supplies them). Only the insertMu holder reads or writes them (it
	// still resizes them under mu, with the slices searches read).
	codes  []int8
	scales []float32

	// mu guards the arrays' growth, the entry point and the deleted marks: searches hold
	// it shared, and writers take it exclusively only to grow, to move the entry point, to
	// delete or to undelete, all rare next to inserts.
	mu sync.RWMutex
	// stripes guard the nodes' link lists (links0, scores0, upper) and levels: row r's under
	// stripes[r%hnswStripes]. A search copies a node's list under its stripe before walking
	// it, and an insert replaces a list under the same, so neither waits for more than one
	// list's copy: a search never queues behind an insert's publication as a whole.
	stripes [hnswStripes]sync.Mutex
	levels  []int8   // per row: top layer of the node, -1 when the row is not in the graph
	links0  []uint32 // per row, stride maxM0+1: neighbour count, then the neighbours on layer 0
	// scores0 holds, per row with stride maxM0, the similarity of the row to each of its
	// layer-0 neighbours, as of when the link was made: a full list decides whether a new
	// node may join it without computing its members' similarities again. A re-inserted
	// row's stale entries in others' lists only sway those pruning decisions; searches
	// always compute distances afresh. A loaded graph has none (the file does not keep
	// them): scored has row's bit set once row's are in scores0, and scoresAt computes a
	// row's from the codes the first time an insert needs them, so that opening a space
	// neither writes nor faults in these pages for the many rows no insert links to.
	scores0  []float32
	scored   []uint64
	upper    [][]uint32
	deleted  []bool
	entry    uint32 // entry point; valid when nodes > 0
	topLevel int    // levels[entry]
	nodes    int    // rows in the graph, deleted ones included
	// live counts the rows in the graph and not deleted. It changes under mu but is read
	// without it: Len is asked before every search, and a read lock would queue it behind
	// a waiting insert.
	live atomic.Int64

	walkers sync.Pool // *walker for searches
}

// NewHNSW returns an empty graph over vectors of dimension dim.
func NewHNSW(dim int, cfg HNSWConfig, vector func(row uint32) []float32) *HNSW {
	cfg = cfg.withDefaults()
	return &HNSW{
		dim:       dim,
		cfg:       cfg,
		maxM:      cfg.M,
		maxM0:     2 * cfg.M,
		levelMult: 1 / math.Log(float64(cfg.M)),
		vector:    vector,
		rng:       rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15)),
		walkers:   sync.Pool{New: func() any { return new(walker) }},
		w:         writer{walker: walker{own: true}},
	}
}

// Len is the number of rows in the graph that are not deleted.
func (h *HNSW) Len() int { return int(h.live.Load()) }

// Contains reports whether row is in the graph and not deleted.
func (h *HNSW) Contains(row uint32) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if int(row) >= len(h.levels) || h.deleted[row] {
		return false
	}
	st := h.stripe(row)
	st.Lock()
	defer st.Unlock()
	return h.levels[row] >= 0
}

// FirstMissing returns the first row below n that want reports true for and the graph
// does not hold (a deleted node counts as not held), or n when there is none: Contains
// over the rows in one pass, taking the locks once instead of per row, and asking want
// only about the rows the graph does not hold.
func (h *HNSW) FirstMissing(n uint32, want func(row uint32) bool) uint32 {
	h.insertMu.Lock() // no writer changes the levels meanwhile
	defer h.insertMu.Unlock()
	h.mu.RLock() // nor the deleted marks
	defer h.mu.RUnlock()
	for row := range n {
		if (int(row) >= len(h.levels) || h.deleted[row] || h.levels[row] < 0) && want(row) {
			return row
		}
	}
	return n
}

// stripe is the lock of row's link lists and level.
func (h *HNSW) stripe(row uint32) *sync.Mutex { return &h.stripes[row%hnswStripes] }

// Delete excludes row from search results. Its node stays in the graph as a waypoint
// (removing it would cut the paths that run through it) until Insert reuses the row.
func (h *HNSW) Delete(row uint32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if int(row) >= len(h.levels) || h.deleted[row] {
		return
	}
	st := h.stripe(row)
	st.Lock()
	in := h.levels[row] >= 0
	st.Unlock()
	if !in {
		return
	}
	h.deleted[row] = true
	h.live.Add(-1)
}

// Insert adds row with its current vector. Inserting a row already in the graph (a
// reused or re-embedded row) relinks it from its current vector and clears its deleted
// mark; links other nodes hold to it from its previous vector stay, which costs a little
// navigation quality and never correctness, since every distance is computed afresh.
func (h *HNSW) Insert(row uint32) { h.insert(row, 0) }

// InsertNeighbours is Insert that also returns up to k rows most similar to row among
// those the insert's layer-0 search met (row itself excluded, deleted rows included), best
// first: the efConstruction-wide search that picks row's links is an approximate k-nearest
// query over the graph, so a caller that needs row's neighbours gets them without a
// second search.
func (h *HNSW) InsertNeighbours(row uint32, k int) []Scored { return h.insert(row, k) }

func (h *HNSW) insert(row uint32, k int) []Scored {
	h.insertMu.Lock()
	defer h.insertMu.Unlock()

	q := h.vector(row)
	if len(q) != h.dim {
		panic(fmt.Sprintf("index: hnsw: vector of row %d has %d dimensions, the graph has %d", row, len(q), h.dim))
	}
	existing := int(row) < len(h.levels) && h.levels[row] >= 0
	if int(row) >= len(h.levels) {
		h.grow(int(row) + 1)
	}
	if h.cfg.Codes == nil {
		h.scales[row] = simd.Quantize(q, h.codes[int(row)*h.dim:])
	}
	var level int
	if existing {
		level = int(h.levels[row])
	} else {
		level = h.randomLevel()
	}

	h.w.arena = h.w.arena[:0]
	links := h.w.links[:0]
	for range level + 1 {
		links = append(links, nil)
	}
	updates := h.w.updates[:0]
	var near []Scored
	if h.nodes > 0 && !(existing && h.nodes == 1) {
		updates, near = h.planLinks(row, h.codeOf(row), level, links, updates)
	}
	near = slices.Clone(h.exactBest(q, near, k)) // near is in the writer's arena
	defer func() { h.w.links, h.w.updates = links[:0], updates[:0] }()

	// Publish: row's own lists first, so that a search reaching row through a neighbour's
	// new link finds them; then the neighbours'; the entry point last.
	st := h.stripe(row)
	st.Lock()
	if !existing {
		h.levels[row] = int8(level)
		if level > 0 {
			h.upper[row] = make([]uint32, level*(h.maxM+1))
		}
	}
	for l, list := range links {
		h.setLinks(row, l, list)
	}
	st.Unlock()
	for _, u := range updates {
		st := h.stripe(u.row)
		st.Lock()
		h.setLinks(u.row, u.level, u.links)
		st.Unlock()
	}
	if !existing {
		h.nodes++
		h.live.Add(1)
	}
	if existing || h.nodes == 1 || level > h.topLevel {
		h.mu.Lock() // deleted is read under mu by searches: a re-inserted row may clear it
		if existing && h.deleted[row] {
			h.deleted[row] = false
			h.live.Add(1)
		}
		if h.nodes == 1 || level > h.topLevel {
			h.entry, h.topLevel = row, level
		}
		h.mu.Unlock()
	}
	return near
}

// writer is the scratch of the insert in progress, kept across inserts so that an insert
// allocates next to nothing. Only the holder of insertMu uses it.
type writer struct {
	walker
	// arena holds the insert's candidate and link lists, which live until it has published
	// them; it is emptied when the next insert begins.
	arena   []Scored
	links   [][]Scored
	updates []linkUpdate
	kept    []code
}

// take returns an empty list with room for n entries, from the arena.
func (w *writer) take(n int) []Scored {
	if cap(w.arena)-len(w.arena) < n {
		// Lists already taken keep the old array; the arena grows to what inserts need.
		w.arena = make([]Scored, 0, max(2*cap(w.arena), n, 1024))
	}
	i := len(w.arena)
	w.arena = w.arena[:i+n]
	return w.arena[i : i : i+n]
}

// keep copies s into the arena.
func (w *writer) keep(s []Scored) []Scored { return append(w.take(len(s)), s...) }

// linkUpdate is a neighbour's new link list on one layer, computed before publishing.
type linkUpdate struct {
	row   uint32
	level int
	links []Scored // Score: similarity to row (kept for layer 0)
}

// code is a quantised vector: v ≈ q[i]·scale.
type code struct {
	q     []int8
	scale float32
}

// codeOf is row's code. The caller holds insertMu or, for a row the graph links, mu
// shared (a search): the arrays are resized under mu, and a row's code is written before
// the insert that links it.
func (h *HNSW) codeOf(row uint32) code {
	if h.cfg.Codes != nil {
		q, scale := h.cfg.Codes(row)
		return code{q, scale}
	}
	off := int(row) * h.dim
	return code{h.codes[off : off+h.dim], h.scales[row]}
}

// approx is the similarity of a and b from their codes.
func approx(a, b code) float32 {
	return float32(simd.DotInt8(a.q, b.q)) * a.scale * b.scale
}

// exactBest returns the k rows of cands (approximate scores, best first) most similar to
// q by the exact vectors, best first. Approximate ranks near the k-th can differ from
// exact ones, so two more candidates than k are rescored: a code's error moves a
// similarity by well under 0.01, and each rescore reads a vector of 4·dim bytes, mostly out of
// cache (k+k/2+4 of them were a fifth of an engine insert's CPU).
func (h *HNSW) exactBest(q []float32, cands []Scored, k int) []Scored {
	cands = cands[:min(len(cands), k+2)]
	if k <= 0 || len(cands) == 0 {
		return nil
	}
	h.rescore(q, cands)
	return cands[:min(len(cands), k)]
}

// rescore sets each of cands' scores to its row's exact similarity to q (the stored
// vector's) and sorts them best first.
func (h *HNSW) rescore(q []float32, cands []Scored) {
	for i := range cands {
		cands[i].Score = simd.Dot(q, h.vector(cands[i].Row))
	}
	SortScored(cands)
}

// planLinks finds the links of row (code c, top layer level) into links[l], appends to
// updates the neighbours' lists that must change to link back, and returns them with the
// layer-0 candidates best first (approximate scores). Every list is in the writer's arena.
// It reads the graph without mu: only the holder of insertMu mutates the graph.
func (h *HNSW) planLinks(row uint32, c code, level int, links [][]Scored, updates []linkUpdate) ([]linkUpdate, []Scored) {
	var near []Scored
	sim := func(n uint32) float32 { return approx(c, h.codeOf(n)) }
	cur := Scored{Row: h.entry, Score: sim(h.entry)}
	for l := h.topLevel; l > level; l-- {
		cur = h.greedy(sim, cur, l, &h.w.walker)
	}
	frontier := []Scored{cur}
	for l := min(level, h.topLevel); l >= 0; l-- {
		found := h.searchLayer(sim, frontier, h.cfg.EfConstruction, l, &h.w.walker, nil)
		if len(found) > 0 {
			frontier = h.w.keep(found) // found is the walker's, which the next layer reuses
		}
		found = slices.DeleteFunc(h.w.keep(found), func(s Scored) bool { return s.Row == row })
		if l == 0 {
			near = found
		}
		chosen := h.selectNeighbors(found, h.maxM)
		links[l] = chosen
		limit := h.maxM
		if l == 0 {
			limit = h.maxM0
		}
		for _, n := range chosen {
			if list, changed := h.linkBack(n, Scored{Row: row, Score: n.Score}, l, limit); changed {
				updates = append(updates, linkUpdate{row: n.Row, level: l, links: list})
			}
		}
	}
	return updates, near
}

// linkBack returns n's layer-l list with nw (the new row and its similarity to n) added,
// pruned back to limit when it would exceed it.
//
// The pruning is incremental (as in Lucene's HNSW builder): n's list was pruned when its
// members joined it, so only pairs with nw are unknown. From the worst member up, the
// first one the heuristic of selectNeighbors would drop because of nw (more similar to nw
// than to n), or nw itself when a better member is more similar to it than n is, leaves;
// when nothing does, the worst member leaves. That is at most limit similarities, where
// running the whole heuristic again costs up to limit²/2: on data without structure, whose
// lists are all full and all diverse, that was more than half of an insert's similarities.
func (h *HNSW) linkBack(n Scored, nw Scored, l, limit int) ([]Scored, bool) {
	cur := h.linksAt(n.Row, l)
	if slices.Contains(cur, nw.Row) {
		return nil, false
	}
	cands := h.w.take(len(cur) + 1)
	switch {
	case l == 0:
		sc := h.scoresAt(n.Row)
		for i, c := range cur {
			cands = append(cands, Scored{Row: c, Score: sc[i]})
		}
	case len(cur) < limit: // upper layers keep no scores and need none without pruning
		for _, c := range cur {
			cands = append(cands, Scored{Row: c})
		}
	default:
		cn := h.codeOf(n.Row)
		for _, c := range cur {
			cands = append(cands, Scored{Row: c, Score: approx(cn, h.codeOf(c))})
		}
	}
	if len(cur) < limit {
		return append(cands, nw), true
	}
	worst := float32(math.Inf(1))
	for _, c := range cands {
		worst = min(worst, c.Score)
	}
	if nw.Score <= worst {
		// Farther from n than every neighbour n keeps: the heuristic would weigh it last
		// and a full list has no room left for it.
		return nil, false
	}
	cands = append(cands, nw)
	SortScored(cands)
	i := h.leaver(cands, nw)
	return slices.Delete(cands, i, i+1), true
}

// leaver is the index of the member of cands (best first, nw among them, every other pair
// already diverse) that the neighbour heuristic drops first: scanning from the worst, a
// member worse than nw and more similar to nw than to the base, or nw if a better member
// is more similar to it than the base is; else the worst.
func (h *HNSW) leaver(cands []Scored, nw Scored) int {
	vn := h.codeOf(nw.Row)
	for i := len(cands) - 1; i > 0; i-- {
		c := cands[i]
		if c.Row == nw.Row {
			for _, b := range cands[:i] {
				if approx(vn, h.codeOf(b.Row)) > nw.Score {
					return i
				}
			}
			break // the members better than nw were checked when they joined
		}
		if approx(vn, h.codeOf(c.Row)) > c.Score {
			return i
		}
	}
	return len(cands) - 1
}

// selectNeighbors is the neighbour-selection heuristic (algorithm 4 of the HNSW paper,
// without candidate extension or refilling with pruned ones). cands hold approximate
// similarities to the base node, best first. A candidate is kept only if it is closer to the base than to
// every neighbour kept before it, so links spread in different directions instead of
// piling into one cluster: this is what keeps clustered data navigable.
func (h *HNSW) selectNeighbors(cands []Scored, m int) []Scored {
	out := h.w.take(min(m, len(cands)))
	if len(cands) <= m {
		return append(out, cands...)
	}
	kept := h.w.kept[:0]
	defer func() { h.w.kept = kept[:0] }()
	for _, c := range cands {
		if len(out) >= m {
			break
		}
		vc := h.codeOf(c.Row)
		diverse := true
		for _, vk := range kept {
			if approx(vc, vk) > c.Score {
				diverse = false
				break
			}
		}
		if diverse {
			out = append(out, c)
			kept = append(kept, vc)
		}
	}
	return out
}

// randomLevel draws a node's top layer from the exponential distribution of the paper,
// with normalisation factor 1/ln(M).
func (h *HNSW) randomLevel() int {
	u := 1 - h.rng.Float64() // (0, 1]
	return min(int(-math.Log(u)*h.levelMult), maxHNSWLevel)
}

// linksAt returns a view of row's neighbours on layer l. Callers hold insertMu, or
// row's stripe (linksCopy), or mu with no insert running (Load).
func (h *HNSW) linksAt(row uint32, l int) []uint32 {
	if l == 0 {
		off := int(row) * (h.maxM0 + 1)
		return h.links0[off+1 : off+1+int(h.links0[off])]
	}
	off := (l - 1) * (h.maxM + 1)
	up := h.upper[row]
	return up[off+1 : off+1+int(up[off])]
}

// linksCopy appends row's neighbours on layer l to buf, under row's stripe: a search's
// view, which a concurrent insert cannot change while it is walked.
func (h *HNSW) linksCopy(row uint32, l int, buf []uint32) []uint32 {
	st := h.stripe(row)
	st.Lock()
	buf = append(buf, h.linksAt(row, l)...)
	st.Unlock()
	return buf
}

// scoresAt returns the similarities of row to its layer-0 neighbours, in linksAt's order,
// computing them from the codes when row's list was loaded. Callers hold insertMu.
func (h *HNSW) scoresAt(row uint32) []float32 {
	n := h.links0[int(row)*(h.maxM0+1)]
	off := int(row) * h.maxM0
	sc := h.scores0[off : off+int(n)]
	if h.scored[row/64]&(1<<(row%64)) == 0 {
		c := h.codeOf(row)
		for i, nb := range h.linksAt(row, 0) {
			sc[i] = approx(c, h.codeOf(nb))
		}
		h.scored[row/64] |= 1 << (row % 64)
	}
	return sc
}

// setLinks replaces row's neighbours on layer l (with their similarities to row on layer
// 0). Callers hold insertMu and row's stripe, or mu with no search running (Load).
func (h *HNSW) setLinks(row uint32, l int, list []Scored) {
	var dst []uint32
	if l == 0 {
		off := int(row) * (h.maxM0 + 1)
		dst = h.links0[off : off+h.maxM0+1]
		sc := h.scores0[int(row)*h.maxM0 : (int(row)+1)*h.maxM0]
		for i, c := range list {
			sc[i] = c.Score
		}
		h.scored[row/64] |= 1 << (row % 64)
	} else {
		off := (l - 1) * (h.maxM + 1)
		dst = h.upper[row][off : off+h.maxM+1]
	}
	for i, c := range list {
		dst[1+i] = c.Row
	}
	dst[0] = uint32(len(list))
}

// grow lengthens the arrays to hold rows below n. The caller holds insertMu, and only its
// holder writes the arrays copied here, except the deleted marks, which Delete sets under
// mu: so the copies, hundreds of megabytes once a million rows are loaded, are made while
// searches go on, and mu is held only to copy the marks and publish the new arrays (a write
// lock waits for the searches in flight and holds back the ones that arrive meanwhile).
func (h *HNSW) grow(n int) {
	if n <= len(h.levels) {
		return
	}
	// Doubling amortises the copies; the small floor keeps the thousands of tiny spaces of a
	// node from each paying for a large empty graph.
	n = max(n, 2*len(h.levels), 64)
	old := len(h.levels)
	// Lengthened in place (within capacity), the new rows lie past the length searches
	// read, so writing them before publishing is unseen.
	levels := regrow(h.levels, n)
	for i := old; i < n; i++ {
		levels[i] = -1
	}
	links0 := regrow(h.links0, n*(h.maxM0+1))
	scores0 := regrow(h.scores0, n*h.maxM0)
	scored := regrow(h.scored, (n+63)/64)
	codes, scales := h.codes, h.scales
	if h.cfg.Codes == nil {
		codes = regrow(h.codes, n*h.dim)
		scales = regrow(h.scales, n)
	}
	upper := regrow(h.upper, n)

	h.mu.Lock()
	h.levels, h.links0, h.scores0, h.scored, h.codes, h.scales, h.upper = levels, links0, scores0, scored, codes, scales, upper
	h.deleted = regrow(h.deleted, n)
	h.mu.Unlock()
}

// regrow returns s lengthened to n, in a new array when it must move. Unlike append, make
// leaves memory fresh from the system untouched (it is zero already) and clears reused memory
// in preemptible chunks: append clears the whole extension at once, which for a million rows'
// layer-0 lists faulted in every page a load then leaves unused and held up the collector,
// which cannot stop a goroutine inside it. The copy is not the statement right after make,
// which the compiler would fuse into one call that clears the extension as append does.
func regrow[T any](s []T, n int) []T {
	if n <= cap(s) {
		return s[:n]
	}
	grown := make([]T, n)
	if len(s) > 0 {
		copy(grown, s)
	}
	return grown
}
