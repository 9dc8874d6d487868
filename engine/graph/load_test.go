package graph

import (
	"errors"
	"math/rand"
	"reflect"
	"testing"
)

type loadEdge struct {
	a, b uint32
	w    float32
	k    EdgeKind
}

func loadAll(g *Graph, es []loadEdge) error {
	return g.Load(len(es), func(i int) (uint32, uint32, float32, EdgeKind) {
		return es[i].a, es[i].b, es[i].w, es[i].k
	})
}

// TestLoadMatchesAddEdge: a graph loaded in one pass holds the same adjacencies, in the
// same order, and the same edge count as one built edge by edge.
func TestLoadMatchesAddEdge(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	var es []loadEdge
	for a := uint32(0); a < 300; a++ {
		for b := a + 1; b < 300; b++ {
			if r.Intn(40) == 0 || a == 5 && b < 100 { // node 5 has more edges than the insertion sort handles
				es = append(es, loadEdge{a, b, float32(1+r.Intn(8)) / 8, EdgeKind(1 + r.Intn(3))})
			}
		}
	}
	want := New()
	for _, e := range es {
		want.AddEdge(e.a, e.b, e.w, e.k)
	}
	got := New()
	if err := loadAll(got, es); err != nil {
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
	got.RemoveNode(5)
	want.RemoveNode(5)
	if got.Edges() != want.Edges() {
		t.Fatalf("after RemoveNode: edges = %d, want %d", got.Edges(), want.Edges())
	}
}

func TestLoadRejects(t *testing.T) {
	cases := map[string][]loadEdge{
		"self loop":    {{1, 1, 0.5, 1}},
		"reversed":     {{2, 1, 0.5, 1}},
		"zero weight":  {{1, 2, 0, 1}},
		"over 1":       {{1, 2, 1.5, 1}},
		"duplicate":    {{1, 2, 0.5, 1}, {1, 2, 0.7, 1}},
		"out of order": {{1, 3, 0.5, 1}, {1, 2, 0.5, 1}},
	}
	for name, es := range cases {
		t.Run(name, func(t *testing.T) {
			g := New()
			if err := loadAll(g, es); err == nil {
				t.Fatal("accepted")
			}
			if g.Edges() != 0 || g.Degree(1) != 0 {
				t.Fatal("a rejected load left edges")
			}
		})
	}
	g := New()
	g.AddEdge(0, 1, 0.5, 1)
	if err := loadAll(g, []loadEdge{{2, 3, 0.5, 1}}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("load into a graph with edges: err = %v, want ErrNotEmpty", err)
	}
}
