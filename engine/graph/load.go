package graph

import (
	"errors"
	"fmt"
	"slices"
)

// loadChunkWords is the size of the chunks Load carves node blocks from (256 KiB).
const loadChunkWords = 1 << 16

// ErrNotEmpty rejects Load into a graph that already has edges.
var ErrNotEmpty = errors.New("graph: load into a graph that has edges")

// Load fills an empty graph with n undirected edges, edge(i) giving the i-th, in one pass:
// every node's block is built once, instead of once per edge as AddEdge would. The edges
// must come sorted by a, then b, with a < b, no pair twice and weights in (0, 1] (what a
// saved graph holds); Load checks this and leaves the graph empty when it fails.
func (g *Graph) Load(n int, edge func(i int) (a, b uint32, w float32, kind EdgeKind)) error {
	g.writer.Lock()
	defer g.writer.Unlock()
	if g.edges.Load() != 0 {
		return ErrNotEmpty
	}
	var deg []uint32
	var pa, pb uint32
	for i := range n {
		a, b, w, _ := edge(i)
		if a >= b || !(w > 0 && w <= 1) || i > 0 && (a < pa || a == pa && b <= pb) {
			return fmt.Errorf("graph: load: edge %d (%d–%d, weight %v) is invalid or out of order", i, a, b, w)
		}
		pa, pb = a, b
		if int(b) >= len(deg) {
			deg = slices.Grow(deg, int(b)+1-len(deg))[:int(b)+1]
		}
		deg[a]++
		deg[b]++
	}
	adj := make([]adjacency, len(deg))
	blocks := make([]*uint32, len(deg))
	// Blocks are carved from shared chunks: one allocation per chunk instead of one per
	// node. A chunk stays alive while any of its blocks is published, which bounds what
	// later edge changes can leave unreclaimed to one chunk per still-loaded node.
	var chunk []uint32
	for v, d := range deg {
		if d == 0 {
			continue
		}
		if w := blockWords(int(d)); w <= loadChunkWords/8 {
			if len(chunk) < w {
				chunk = make([]uint32, loadChunkWords)
			}
			chunk[0] = d
			blocks[v], adj[v] = &chunk[0], view(&chunk[0])
			chunk = chunk[w:]
		} else {
			blocks[v], adj[v] = newBlock(int(d))
		}
		adj[v].to, adj[v].weight, adj[v].kind = adj[v].to[:0], adj[v].weight[:0], adj[v].kind[:0]
	}
	put := func(v, to uint32, w float32, kind EdgeKind) {
		a := &adj[v]
		a.to, a.weight, a.kind = append(a.to, to), append(a.weight, w), append(a.kind, kind)
	}
	for i := range n {
		a, b, w, kind := edge(i)
		put(a, b, w, kind)
		put(b, a, w, kind)
	}
	for v, block := range blocks {
		if block == nil {
			continue
		}
		sortAdjacency(adj[v])
		g.slot(uint32(v)).Store(block)
	}
	g.edges.Store(int64(n))
	return nil
}

// sortAdjacency orders a's edges by weight descending, then target ascending, in place.
func sortAdjacency(a adjacency) {
	if len(a.to) <= 32 { // most nodes: an insertion sort in place, without allocating
		for i := 1; i < len(a.to); i++ {
			for j := i; j > 0 && before(a.weight[j], a.to[j], a.weight[j-1], a.to[j-1]); j-- {
				a.to[j], a.to[j-1] = a.to[j-1], a.to[j]
				a.weight[j], a.weight[j-1] = a.weight[j-1], a.weight[j]
				a.kind[j], a.kind[j-1] = a.kind[j-1], a.kind[j]
			}
		}
		return
	}
	idx := make([]int, len(a.to))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int {
		switch {
		case before(a.weight[i], a.to[i], a.weight[j], a.to[j]):
			return -1
		case before(a.weight[j], a.to[j], a.weight[i], a.to[i]):
			return 1
		}
		return 0
	})
	to := slices.Clone(a.to)
	w := slices.Clone(a.weight)
	k := slices.Clone(a.kind)
	for dst, src := range idx {
		a.to[dst], a.weight[dst], a.kind[dst] = to[src], w[src], k[src]
	}
}
