package graph

import (
	"errors"
	"fmt"
)

// ErrNotEmpty rejects a load into a graph that already has edges.
var ErrNotEmpty = errors.New("graph: load into a graph that has edges")

// LoadBlocks fills an empty graph node by node, as a saved graph lists them: node(i)
// gives the i-th node (rising) and its edges as one block of words in the layout the
// graph keeps them in (adjacency.go: the count, the targets, the weights' bits, the
// kinds packed four to a word), sorted weight descending, then target ascending, with
// weights in (0, 1], no target twice and none the node itself. The graph publishes the
// blocks as they are, without copying: they must not change after, and the memory they
// lie in stays alive while any of them is published (a node's later changes publish a
// new block). Every undirected edge must be listed at both of its nodes with the same
// weight and kind, edges of them in all. The caller's decoder checks the lists (a saved
// graph's reader goes over every edge once, as tier.DecodeRowGraph does); what is
// checked here is what reading the blocks at all depends on — nodes rising, each block
// as long as its count says — and the graph is left empty when a check fails.
func (g *Graph) LoadBlocks(nodes int, edges int64, node func(i int) (v uint32, block []uint32)) error {
	g.writer.Lock()
	defer g.writer.Unlock()
	if g.edges.Load() != 0 {
		return ErrNotEmpty
	}
	vs := make([]uint32, nodes)
	blocks := make([]*uint32, nodes)
	for i := range nodes {
		v, words := node(i)
		if len(words) == 0 || words[0] == 0 || len(words) != blockWords(int(words[0])) || i > 0 && v <= vs[i-1] {
			return fmt.Errorf("graph: load: node %d (%d) has a block of %d words or is out of order", i, v, len(words))
		}
		vs[i], blocks[i] = v, &words[0]
	}
	for i, block := range blocks {
		g.slot(vs[i]).Store(block)
	}
	g.edges.Store(edges)
	return nil
}
