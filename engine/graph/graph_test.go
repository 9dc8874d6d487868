package graph

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

type testEdge struct {
	a, b uint32
	w    float32
	kind EdgeKind
}

func build(edges []testEdge) *Graph {
	g := New()
	for _, e := range edges {
		kind := e.kind
		if kind == 0 {
			kind = KindSimilarity
		}
		g.AddEdge(e.a, e.b, e.w, kind)
	}
	return g
}

func TestAddEdge(t *testing.T) {
	tests := []struct {
		name      string
		edges     []testEdge
		node      uint32
		want      []Edge
		wantEdges int
	}{
		{
			name:      "undirected",
			edges:     []testEdge{{a: 1, b: 2, w: 0.5}},
			node:      2,
			want:      []Edge{{To: 1, Weight: 0.5, Kind: KindSimilarity}},
			wantEdges: 1,
		},
		{
			name:      "re-adding keeps the larger weight and its kind",
			edges:     []testEdge{{a: 1, b: 2, w: 0.5}, {a: 2, b: 1, w: 0.8, kind: KindTemporal}, {a: 1, b: 2, w: 0.3, kind: KindConsolidation}},
			node:      1,
			want:      []Edge{{To: 2, Weight: 0.8, Kind: KindTemporal}},
			wantEdges: 1,
		},
		{
			name:      "equal weight keeps the existing kind",
			edges:     []testEdge{{a: 1, b: 2, w: 0.5, kind: KindTemporal}, {a: 1, b: 2, w: 0.5, kind: KindConsolidation}},
			node:      2,
			want:      []Edge{{To: 1, Weight: 0.5, Kind: KindTemporal}},
			wantEdges: 1,
		},
		{
			name:      "self-loop ignored",
			edges:     []testEdge{{a: 3, b: 3, w: 0.9}},
			node:      3,
			want:      nil,
			wantEdges: 0,
		},
		{
			name: "non-positive and NaN weights ignored",
			edges: []testEdge{
				{a: 1, b: 2, w: 0}, {a: 1, b: 3, w: -0.5}, {a: 1, b: 4, w: float32(math.NaN())},
			},
			node:      1,
			want:      nil,
			wantEdges: 0,
		},
		{
			name:      "weight above one capped",
			edges:     []testEdge{{a: 1, b: 2, w: 7}},
			node:      1,
			want:      []Edge{{To: 2, Weight: 1, Kind: KindSimilarity}},
			wantEdges: 1,
		},
		{
			name: "sorted by weight desc then To asc",
			edges: []testEdge{
				{a: 0, b: 5, w: 0.4}, {a: 0, b: 3, w: 0.9}, {a: 0, b: 9, w: 0.4}, {a: 0, b: 1, w: 0.4}, {a: 0, b: 2, w: 0.7},
			},
			node: 0,
			want: []Edge{
				{To: 3, Weight: 0.9, Kind: KindSimilarity}, {To: 2, Weight: 0.7, Kind: KindSimilarity},
				{To: 1, Weight: 0.4, Kind: KindSimilarity}, {To: 5, Weight: 0.4, Kind: KindSimilarity},
				{To: 9, Weight: 0.4, Kind: KindSimilarity},
			},
			wantEdges: 5,
		},
		{
			name:      "ids across pages",
			edges:     []testEdge{{a: 0, b: 70000, w: 0.6}, {a: 70000, b: 1 << 20, w: 0.2}},
			node:      70000,
			want:      []Edge{{To: 0, Weight: 0.6, Kind: KindSimilarity}, {To: 1 << 20, Weight: 0.2, Kind: KindSimilarity}},
			wantEdges: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := build(tt.edges)
			if got := g.Neighbors(tt.node); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Neighbors(%d) = %v, want %v", tt.node, got, tt.want)
			}
			if got := g.Degree(tt.node); got != len(tt.want) {
				t.Errorf("Degree(%d) = %d, want %d", tt.node, got, len(tt.want))
			}
			if got := g.Edges(); got != tt.wantEdges {
				t.Errorf("Edges() = %d, want %d", got, tt.wantEdges)
			}
			checkSymmetric(t, g)
		})
	}
}

func TestRemoveNode(t *testing.T) {
	g := build([]testEdge{{a: 1, b: 2, w: 0.5}, {a: 1, b: 3, w: 0.6}, {a: 2, b: 3, w: 0.7}, {a: 3, b: 4, w: 0.8}})
	g.RemoveNode(3)
	tests := []struct {
		node uint32
		want []Edge
	}{
		{1, []Edge{{To: 2, Weight: 0.5, Kind: KindSimilarity}}},
		{2, []Edge{{To: 1, Weight: 0.5, Kind: KindSimilarity}}},
		{3, nil},
		{4, nil},
	}
	for _, tt := range tests {
		if got := g.Neighbors(tt.node); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("after RemoveNode(3): Neighbors(%d) = %v, want %v", tt.node, got, tt.want)
		}
	}
	if got := g.Edges(); got != 1 {
		t.Errorf("Edges() = %d, want 1", got)
	}
	g.RemoveNode(3) // no edges left: no-op
	g.RemoveNode(99)
	if got := g.Edges(); got != 1 {
		t.Errorf("Edges() after no-op removals = %d, want 1", got)
	}
	g.AddEdge(3, 4, 0.1, KindTemporal)
	if got := g.Degree(3); got != 1 {
		t.Errorf("Degree(3) after relinking = %d, want 1", got)
	}
	checkSymmetric(t, g)
}

// TestAddEdgesMatchesAddEdge checks that the batch form leaves exactly the graph the
// one-by-one form does, duplicates, self-loops and invalid weights included.
func TestAddEdgesMatchesAddEdge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	one, batch := New(), New()
	for n := uint32(0); n < 300; n++ {
		var edges []Edge
		for range 12 {
			e := Edge{To: uint32(rng.IntN(int(n) + 1)), Weight: rng.Float32()*1.2 - 0.1, Kind: EdgeKind(1 + rng.IntN(3))}
			edges = append(edges, e)
			one.AddEdge(n, e.To, e.Weight, e.Kind)
		}
		batch.AddEdges(n, edges)
	}
	if one.Edges() != batch.Edges() {
		t.Fatalf("Edges: one-by-one %d, batch %d", one.Edges(), batch.Edges())
	}
	for n := uint32(0); n < 300; n++ {
		if a, b := one.Neighbors(n), batch.Neighbors(n); !reflect.DeepEqual(a, b) {
			t.Fatalf("node %d: one-by-one %v, batch %v", n, a, b)
		}
	}
	checkSymmetric(t, batch)
}

// checkSymmetric verifies the stored-at-both-ends invariant and the edge count.
func checkSymmetric(t *testing.T, g *Graph) {
	t.Helper()
	half := 0
	for n := uint32(0); int64(n) < g.limit.Load(); n++ {
		for _, e := range g.Neighbors(n) {
			half++
			back := g.Neighbors(e.To)
			found := false
			for _, r := range back {
				if r.To == n {
					found = true
					if r.Weight != e.Weight || r.Kind != e.Kind {
						t.Errorf("edge %d-%d: %v one way, %v the other", n, e.To, e, r)
					}
				}
			}
			if !found {
				t.Errorf("edge %d->%d has no reverse", n, e.To)
			}
		}
	}
	if half != 2*g.Edges() {
		t.Errorf("stored half-edges %d, want 2×Edges() = %d", half, 2*g.Edges())
	}
}
