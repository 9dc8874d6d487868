package graph

import (
	"errors"
	"fmt"
)

// loadChunkWords is the size of the chunks LoadAdjacency carves node blocks from (256 KiB).
const loadChunkWords = 1 << 16

// ErrNotEmpty rejects a load into a graph that already has edges.
var ErrNotEmpty = errors.New("graph: load into a graph that has edges")

// LoadAdjacency fills an empty graph node by node, as a saved graph lists them: node(i)
// gives the i-th node (rising), and its edges in the order the graph keeps them (weight
// descending, then target ascending), with weights in (0, 1]. Every undirected edge must
// be listed at both of its nodes with the same weight and kind, edges of them in all: the
// caller's decoder checks that (LoadAdjacency copies each list once, in order, which is
// what makes it fast). The order, weights and targets are checked here, and the graph is
// left empty when a check fails.
func (g *Graph) LoadAdjacency(nodes int, edges int64, node func(i int) (v uint32, to []uint32, w []float32, kind []uint8)) error {
	g.writer.Lock()
	defer g.writer.Unlock()
	if g.edges.Load() != 0 {
		return ErrNotEmpty
	}
	vs := make([]uint32, nodes)
	blocks := make([]*uint32, nodes)
	// Blocks are carved from shared chunks: one allocation per chunk instead of one per
	// node. A chunk stays alive while any of its blocks is published, which bounds what
	// later edge changes can leave unreclaimed to one chunk per still-loaded node.
	var chunk []uint32
	for i := range nodes {
		v, to, w, kind := node(i)
		if len(to) == 0 || len(w) != len(to) || len(kind) != len(to) || i > 0 && v <= vs[i-1] {
			return fmt.Errorf("graph: load: node %d (%d) has %d edges or is out of order", i, v, len(to))
		}
		for j := range to {
			if to[j] == v || !(w[j] > 0 && w[j] <= 1) || j > 0 && !before(w[j-1], to[j-1], w[j], to[j]) {
				return fmt.Errorf("graph: load: edge %d of node %d (to %d, weight %v) is invalid or out of order", j, v, to[j], w[j])
			}
		}
		var block *uint32
		var a adjacency
		if words := blockWords(len(to)); words <= loadChunkWords/8 {
			if len(chunk) < words {
				chunk = make([]uint32, loadChunkWords)
			}
			chunk[0] = uint32(len(to))
			block, a = &chunk[0], view(&chunk[0])
			chunk = chunk[words:]
		} else {
			block, a = newBlock(len(to))
		}
		copy(a.to, to)
		copy(a.weight, w)
		for j, k := range kind {
			a.kind[j] = EdgeKind(k)
		}
		vs[i], blocks[i] = v, block
	}
	for i, block := range blocks {
		g.slot(vs[i]).Store(block)
	}
	g.edges.Store(edges)
	return nil
}
