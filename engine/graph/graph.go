package graph

import (
	"sync"
	"sync/atomic"
)

// pageBits sizes the pages of node slots. Pages are allocated on first use, so a space
// with a handful of memories costs one 2 KiB page, and the directory that indexes the
// pages is the only thing copied when the graph grows.
const (
	pageBits = 8
	pageSize = 1 << pageBits
	pageMask = pageSize - 1
)

type page [pageSize]atomic.Pointer[uint32] // each slot holds a node's block, see adjacency.go

// directory indexes the pages. A page is allocated into its entry in place; the directory
// is replaced, doubling, only when a node lies past its end, so building a graph row by
// row copies it O(log n) times, not once per page. Pages are shared between successive
// directories.
type directory struct {
	pages []atomic.Pointer[page]
}

// grown returns a copy of d with room for at least n pages.
func (d *directory) grown(n int) *directory {
	next := &directory{pages: make([]atomic.Pointer[page], max(n, 2*len(d.pages)))}
	for i := range d.pages {
		next.pages[i].Store(d.pages[i].Load())
	}
	return next
}

// Graph is an undirected weighted association graph over dense uint32 node ids.
// Any number of readers (Spread, Neighbors, Degree, Edges) may run concurrently with
// each other and with writers (AddEdge, AddEdges, RemoveNode); writers are serialised.
type Graph struct {
	writer sync.Mutex // serialises AddEdge, AddEdges and RemoveNode
	dir    atomic.Pointer[directory]
	edges  atomic.Int64 // undirected edge count
	limit  atomic.Int64 // one past the highest node id ever given an edge
	pool   sync.Pool    // *scratch reused across Spread calls
}

// New returns an empty graph.
func New() *Graph {
	g := &Graph{}
	g.dir.Store(&directory{})
	return g
}

// load returns node n's block, or nil when it has no edges.
func (g *Graph) load(n uint32) *uint32 {
	d := g.dir.Load()
	p := int(n >> pageBits)
	if p >= len(d.pages) {
		return nil
	}
	pg := d.pages[p].Load()
	if pg == nil {
		return nil
	}
	return pg[n&pageMask].Load()
}

// slot returns node n's slot, allocating its page (and a larger directory) when
// needed. Callers hold g.writer.
func (g *Graph) slot(n uint32) *atomic.Pointer[uint32] {
	d := g.dir.Load()
	p := int(n >> pageBits)
	if p >= len(d.pages) {
		d = d.grown(p + 1)
		g.dir.Store(d)
	}
	pg := d.pages[p].Load()
	if pg == nil {
		pg = new(page)
		d.pages[p].Store(pg)
	}
	if int64(n) >= g.limit.Load() {
		g.limit.Store(int64(n) + 1)
	}
	return &pg[n&pageMask]
}

// AddEdge links a and b with weight w. Weights above 1 are capped at 1; zero, negative
// and NaN weights and self-loops are ignored. Re-adding an existing edge keeps the
// larger weight; the kind follows the weight that is kept (ties keep the existing kind).
func (g *Graph) AddEdge(a, b uint32, w float32, kind EdgeKind) {
	w, ok := normalizeWeight(w)
	if !ok || a == b {
		return
	}
	g.writer.Lock()
	defer g.writer.Unlock()
	sa, sb := g.slot(a), g.slot(b)
	na, added := with(sa.Load(), b, w, kind)
	if na == sa.Load() {
		return
	}
	nb, _ := with(sb.Load(), a, w, kind)
	sa.Store(na)
	sb.Store(nb)
	if added {
		g.edges.Add(1)
	}
}

// AddEdges links a to every edge's To under the same rules as AddEdge. Linking a new
// memory to its k neighbours this way rebuilds a's adjacency once instead of k times.
func (g *Graph) AddEdges(a uint32, edges []Edge) {
	g.writer.Lock()
	defer g.writer.Unlock()
	sa := g.slot(a)
	na := view(sa.Load()).clone(len(edges))
	changed := false
	for _, e := range edges {
		w, ok := normalizeWeight(e.Weight)
		if !ok || e.To == a {
			continue
		}
		c, added := na.upsert(e.To, w, e.Kind)
		if !c {
			continue
		}
		changed = true
		sb := g.slot(e.To)
		nb, _ := with(sb.Load(), a, w, e.Kind)
		sb.Store(nb)
		if added {
			g.edges.Add(1)
		}
	}
	if !changed {
		return
	}
	sa.Store(pack(na))
}

// RemoveNode drops every edge of n, at both ends. The node id stays valid and may be
// linked again later.
func (g *Graph) RemoveNode(n uint32) {
	g.writer.Lock()
	defer g.writer.Unlock()
	adj := view(g.load(n))
	if len(adj.to) == 0 {
		return
	}
	for _, m := range adj.to {
		sm := g.slot(m)
		sm.Store(without(sm.Load(), n))
	}
	g.slot(n).Store(nil)
	g.edges.Add(-int64(len(adj.to)))
}

// Neighbors returns a copy of n's edges, sorted by weight descending, then To ascending.
func (g *Graph) Neighbors(n uint32) []Edge {
	adj := view(g.load(n))
	if len(adj.to) == 0 {
		return nil
	}
	out := make([]Edge, len(adj.to))
	for i := range out {
		out[i] = Edge{To: adj.to[i], Weight: adj.weight[i], Kind: adj.kind[i]}
	}
	return out
}

// Degree returns the number of edges of n.
func (g *Graph) Degree(n uint32) int {
	if block := g.load(n); block != nil {
		return int(*block)
	}
	return 0
}

// Edges returns the number of undirected edges.
func (g *Graph) Edges() int {
	return int(g.edges.Load())
}
