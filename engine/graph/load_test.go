package graph

import (
	"errors"
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"unsafe"
)

// blocksOf lists g's nodes below n with their edges as LoadBlocks takes them.
func blocksOf(g *Graph, n uint32) (vs []uint32, blocks [][]uint32) {
	for v := range n {
		es := g.Neighbors(v)
		if len(es) == 0 {
			continue
		}
		vs, blocks = append(vs, v), append(blocks, blockOf(es))
	}
	return vs, blocks
}

// blockOf is the block of a node with edges es, in their order.
func blockOf(es []Edge) []uint32 {
	var a adjacency
	for _, e := range es {
		a.to, a.weight, a.kind = append(a.to, e.To), append(a.weight, e.Weight), append(a.kind, e.Kind)
	}
	block := pack(a)
	return unsafe.Slice(block, blockWords(len(es)))
}

// TestLoadBlocksMatchesAddEdge: a graph loaded from another's adjacency lists holds the
// same adjacencies and edge count, and changes the same way after, leaving the loaded
// blocks as they were.
func TestLoadBlocksMatchesAddEdge(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	want := New()
	for a := uint32(0); a < 300; a++ {
		for b := a + 1; b < 300; b++ {
			if r.Intn(40) == 0 || a == 5 && b < 200 { // node 5's block is larger than a chunk's share
				want.AddEdge(a, b, float32(1+r.Intn(8))/8, EdgeKind(1+r.Intn(3)))
			}
		}
	}
	vs, blocks := blocksOf(want, 300)
	saved := make([][]uint32, len(blocks))
	for i, b := range blocks {
		saved[i] = slices.Clone(b)
	}
	got := New()
	err := got.LoadBlocks(len(vs), int64(want.Edges()), func(i int) (uint32, []uint32) { return vs[i], blocks[i] })
	if err != nil {
		t.Fatal(err)
	}
	if got.Edges() != want.Edges() {
		t.Fatalf("edges = %d, want %d", got.Edges(), want.Edges())
	}
	for n := uint32(0); n < 301; n++ {
		if g, w := got.Neighbors(n), want.Neighbors(n); !reflect.DeepEqual(g, w) {
			t.Fatalf("node %d: neighbors %v, want %v", n, g, w)
		}
	}
	for _, g := range []*Graph{got, want} {
		g.RemoveNode(5)
		g.AddEdge(7, 8, 0.9, KindTemporal)
	}
	if got.Edges() != want.Edges() || !reflect.DeepEqual(got.Neighbors(7), want.Neighbors(7)) {
		t.Fatalf("after changes: edges = %d, want %d", got.Edges(), want.Edges())
	}
	if !reflect.DeepEqual(blocks, saved) {
		t.Fatal("changing the loaded graph wrote into its blocks")
	}
}

// TestLoadBlocksRejects: blocks that cannot be read as lists leave the graph empty (the
// lists themselves are the decoder's to check: tier.DecodeRowGraph).
func TestLoadBlocksRejects(t *testing.T) {
	type node struct {
		v  uint32
		to []uint32
		w  []float32
	}
	cases := map[string][]node{
		"no edges":         {{1, nil, nil}},
		"nodes repeated":   {{1, []uint32{2}, []float32{0.5}}, {1, []uint32{3}, []float32{0.5}}},
		"weights and rows": {{1, []uint32{2, 3}, []float32{0.5}}},
	}
	for name, nodes := range cases {
		t.Run(name, func(t *testing.T) {
			g := New()
			err := g.LoadBlocks(len(nodes), 1, func(i int) (uint32, []uint32) {
				n := nodes[i]
				if len(n.to) == 0 || len(n.w) != len(n.to) { // no block, or one cut short
					return n.v, make([]uint32, len(n.to))
				}
				es := make([]Edge, len(n.to))
				for j := range es {
					es[j] = Edge{To: n.to[j], Weight: n.w[j], Kind: KindSimilarity}
				}
				return n.v, blockOf(es)
			})
			if err == nil {
				t.Fatal("loaded")
			}
			if g.Edges() != 0 || len(g.Neighbors(1)) != 0 {
				t.Fatalf("a graph that failed to load has %d edges", g.Edges())
			}
		})
	}
	g := New()
	g.AddEdge(1, 2, 0.5, KindSimilarity)
	if err := g.LoadBlocks(0, 0, nil); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("load into a graph with edges: err = %v, want ErrNotEmpty", err)
	}
}
