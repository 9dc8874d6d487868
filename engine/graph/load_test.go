package graph

import (
	"errors"
	"math/rand"
	"reflect"
	"testing"
)

// adjacencyOf lists g's nodes below n with their edges as LoadAdjacency takes them.
func adjacencyOf(g *Graph, n uint32) (vs []uint32, tos [][]uint32, ws [][]float32, ks [][]uint8) {
	for v := range n {
		es := g.Neighbors(v)
		if len(es) == 0 {
			continue
		}
		var to []uint32
		var w []float32
		var k []uint8
		for _, e := range es {
			to, w, k = append(to, e.To), append(w, e.Weight), append(k, uint8(e.Kind))
		}
		vs, tos, ws, ks = append(vs, v), append(tos, to), append(ws, w), append(ks, k)
	}
	return vs, tos, ws, ks
}

// TestLoadAdjacencyMatchesAddEdge: a graph loaded from another's adjacency lists holds
// the same adjacencies and edge count, and changes the same way after.
func TestLoadAdjacencyMatchesAddEdge(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	want := New()
	for a := uint32(0); a < 300; a++ {
		for b := a + 1; b < 300; b++ {
			if r.Intn(40) == 0 || a == 5 && b < 200 { // node 5's block is larger than a chunk's share
				want.AddEdge(a, b, float32(1+r.Intn(8))/8, EdgeKind(1+r.Intn(3)))
			}
		}
	}
	vs, tos, ws, ks := adjacencyOf(want, 300)
	got := New()
	err := got.LoadAdjacency(len(vs), int64(want.Edges()), func(i int) (uint32, []uint32, []float32, []uint8) {
		return vs[i], tos[i], ws[i], ks[i]
	})
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
}

func TestLoadAdjacencyRejects(t *testing.T) {
	type node struct {
		v  uint32
		to []uint32
		w  []float32
	}
	cases := map[string][]node{
		"no edges":         {{1, nil, nil}},
		"nodes repeated":   {{1, []uint32{2}, []float32{0.5}}, {1, []uint32{3}, []float32{0.5}}},
		"self loop":        {{1, []uint32{1}, []float32{0.5}}},
		"zero weight":      {{1, []uint32{2}, []float32{0}}},
		"out of order":     {{1, []uint32{2, 3}, []float32{0.5, 0.75}}},
		"weights and rows": {{1, []uint32{2, 3}, []float32{0.5}}},
	}
	for name, nodes := range cases {
		t.Run(name, func(t *testing.T) {
			g := New()
			err := g.LoadAdjacency(len(nodes), 1, func(i int) (uint32, []uint32, []float32, []uint8) {
				return nodes[i].v, nodes[i].to, nodes[i].w, make([]uint8, len(nodes[i].to))
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
	if err := g.LoadAdjacency(0, 0, nil); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("load into a graph with edges: err = %v, want ErrNotEmpty", err)
	}
}
