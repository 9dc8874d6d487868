package graph

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
)

// Node names used by the small graphs below.
const (
	a uint32 = iota
	b
	c
	d
	e
	f
)

func TestSpread(t *testing.T) {
	chain := []testEdge{{a: a, b: b, w: 0.8}, {a: b, b: c, w: 0.6}}
	tests := []struct {
		name        string
		edges       []testEdge
		seeds       []Seed
		params      Params
		accept      func(uint32) bool
		want        []Activated
		wantHops    int
		wantVisited int
	}{
		{
			name:   "chain a-b-c reaches c through b",
			edges:  chain,
			seeds:  []Seed{{Node: a, Activation: 1}},
			params: Params{MaxHops: 3, Decay: 0.5, Threshold: 0.01},
			want: []Activated{
				{Node: a, Activation: 1, Hops: 0, Path: []uint32{a}},
				{Node: b, Activation: offer(1, 0.8, 0.5), Hops: 1, Path: []uint32{a, b}},
				{Node: c, Activation: offer(offer(1, 0.8, 0.5), 0.6, 0.5), Hops: 2, Path: []uint32{a, b, c}},
			},
			wantHops:    2,
			wantVisited: 3, // a, b, c expanded; c offers nothing new
		},
		{
			name:   "threshold cuts the weak tail",
			edges:  chain,
			seeds:  []Seed{{Node: a, Activation: 1}},
			params: Params{MaxHops: 3, Decay: 0.5, Threshold: 0.2},
			want: []Activated{
				{Node: a, Activation: 1, Hops: 0, Path: []uint32{a}},
				{Node: b, Activation: 0.4, Hops: 1, Path: []uint32{a, b}},
			},
			wantHops:    1,
			wantVisited: 2,
		},
		{
			name:   "seed under the threshold is dropped",
			edges:  chain,
			seeds:  []Seed{{Node: a, Activation: 0.01}},
			params: DefaultParams(),
			want:   nil,
		},
		{
			name:   "max hops cuts",
			edges:  []testEdge{{a: a, b: b, w: 1}, {a: b, b: c, w: 1}, {a: c, b: d, w: 1}, {a: d, b: e, w: 1}},
			seeds:  []Seed{{Node: a, Activation: 1}},
			params: Params{MaxHops: 2, Decay: 0.9, Threshold: 0.01},
			want: []Activated{
				{Node: a, Activation: 1, Hops: 0, Path: []uint32{a}},
				{Node: b, Activation: 0.9, Hops: 1, Path: []uint32{a, b}},
				{Node: c, Activation: offer(0.9, 1, 0.9), Hops: 2, Path: []uint32{a, b, c}},
			},
			wantHops:    2,
			wantVisited: 2,
		},
		{
			name: "stronger longer path wins",
			edges: []testEdge{
				{a: a, b: b, w: 0.2}, {a: a, b: c, w: 1}, {a: c, b: b, w: 1},
			},
			seeds:  []Seed{{Node: a, Activation: 1}},
			params: Params{MaxHops: 3, Decay: 0.5, Threshold: 0.01},
			want: []Activated{
				{Node: a, Activation: 1, Hops: 0, Path: []uint32{a}},
				{Node: c, Activation: 0.5, Hops: 1, Path: []uint32{a, c}},
				{Node: b, Activation: 0.25, Hops: 2, Path: []uint32{a, c, b}},
			},
			wantHops:    2,
			wantVisited: 4, // a; c, b; b again after its rise
		},
		{
			name: "max incoming activation, equal offers keep the first (strongest parent)",
			edges: []testEdge{
				{a: a, b: c, w: 0.5}, {a: b, b: c, w: 1},
			},
			seeds:  []Seed{{Node: a, Activation: 1}, {Node: b, Activation: 0.5}},
			params: Params{MaxHops: 1, Decay: 0.5, Threshold: 0.01},
			want: []Activated{
				{Node: a, Activation: 1, Hops: 0, Path: []uint32{a}},
				{Node: b, Activation: 0.5, Hops: 0, Path: []uint32{b}},
				{Node: c, Activation: 0.25, Hops: 1, Path: []uint32{a, c}},
			},
			wantHops:    1,
			wantVisited: 2,
		},
		{
			name:   "seeds keep their own activation",
			edges:  []testEdge{{a: a, b: b, w: 1}},
			seeds:  []Seed{{Node: a, Activation: 1}, {Node: b, Activation: 0.1}},
			params: Params{MaxHops: 3, Decay: 0.5, Threshold: 0.01},
			want: []Activated{
				{Node: a, Activation: 1, Hops: 0, Path: []uint32{a}},
				{Node: b, Activation: 0.1, Hops: 0, Path: []uint32{b}},
			},
			wantVisited: 2,
		},
		{
			name:   "RaiseSeeds: a stronger association raises a seed, with its path",
			edges:  []testEdge{{a: a, b: b, w: 1}, {a: b, b: c, w: 1}},
			seeds:  []Seed{{Node: a, Activation: 1}, {Node: b, Activation: 0.1}},
			params: Params{MaxHops: 3, Decay: 0.5, Threshold: 0.01, RaiseSeeds: true},
			want: []Activated{
				{Node: a, Activation: 1, Hops: 0, Path: []uint32{a}},
				{Node: b, Activation: 0.5, Hops: 1, Path: []uint32{a, b}},
				{Node: c, Activation: 0.25, Hops: 2, Path: []uint32{a, b, c}},
			},
			wantHops:    2,
			wantVisited: 5, // a, b; b raised, c at 0.05 through the seed b; c raised
		},
		{
			name:   "duplicate seeds keep the largest activation",
			edges:  []testEdge{{a: a, b: b, w: 1}},
			seeds:  []Seed{{Node: a, Activation: 0.2}, {Node: a, Activation: 0.8}, {Node: a, Activation: 0.4}},
			params: Params{MaxHops: 1, Decay: 0.5, Threshold: 0.01},
			want: []Activated{
				{Node: a, Activation: 0.8, Hops: 0, Path: []uint32{a}},
				{Node: b, Activation: 0.4, Hops: 1, Path: []uint32{a, b}},
			},
			wantHops:    1,
			wantVisited: 1,
		},
		{
			name: "cycle terminates before max hops",
			edges: []testEdge{
				{a: a, b: b, w: 1}, {a: b, b: c, w: 1}, {a: c, b: a, w: 1},
			},
			seeds:  []Seed{{Node: a, Activation: 1}},
			params: Params{MaxHops: 1000, Decay: 1, Threshold: 0.01},
			want: []Activated{
				{Node: a, Activation: 1, Hops: 0, Path: []uint32{a}},
				{Node: b, Activation: 1, Hops: 1, Path: []uint32{a, b}},
				{Node: c, Activation: 1, Hops: 1, Path: []uint32{a, c}},
			},
			wantHops:    1,
			wantVisited: 3,
		},
		{
			name:   "budget bounds visits",
			edges:  []testEdge{{a: a, b: b, w: 1}, {a: b, b: c, w: 1}, {a: c, b: d, w: 1}, {a: d, b: e, w: 1}},
			seeds:  []Seed{{Node: a, Activation: 1}},
			params: Params{MaxHops: 10, Decay: 0.9, Threshold: 0.01, Budget: 2},
			want: []Activated{
				{Node: a, Activation: 1, Hops: 0, Path: []uint32{a}},
				{Node: b, Activation: 0.9, Hops: 1, Path: []uint32{a, b}},
				{Node: c, Activation: offer(0.9, 1, 0.9), Hops: 2, Path: []uint32{a, b, c}},
			},
			wantHops:    2,
			wantVisited: 2,
		},
		{
			name:   "budget spends on the strongest frontier nodes first",
			edges:  []testEdge{{a: a, b: c, w: 0.3}, {a: b, b: d, w: 0.9}},
			seeds:  []Seed{{Node: a, Activation: 0.5}, {Node: b, Activation: 0.9}},
			params: Params{MaxHops: 3, Decay: 0.5, Threshold: 0.01, Budget: 1},
			want: []Activated{
				{Node: b, Activation: 0.9, Hops: 0, Path: []uint32{b}},
				{Node: a, Activation: 0.5, Hops: 0, Path: []uint32{a}},
				{Node: d, Activation: offer(0.9, 0.9, 0.5), Hops: 1, Path: []uint32{b, d}},
			},
			wantHops:    1,
			wantVisited: 1,
		},
		{
			name:   "max fanout follows the strongest edges only",
			edges:  []testEdge{{a: a, b: b, w: 0.9}, {a: a, b: c, w: 0.8}, {a: a, b: d, w: 0.7}},
			seeds:  []Seed{{Node: a, Activation: 1}},
			params: Params{MaxHops: 1, Decay: 0.5, Threshold: 0.01, MaxFanout: 2},
			want: []Activated{
				{Node: a, Activation: 1, Hops: 0, Path: []uint32{a}},
				{Node: b, Activation: 0.45, Hops: 1, Path: []uint32{a, b}},
				{Node: c, Activation: 0.4, Hops: 1, Path: []uint32{a, c}},
			},
			wantHops:    1,
			wantVisited: 1,
		},
		{
			name:   "accept filter neither reports nor propagates",
			edges:  append([]testEdge{{a: a, b: d, w: 0.5}}, chain...),
			seeds:  []Seed{{Node: a, Activation: 1}, {Node: e, Activation: 1}},
			params: Params{MaxHops: 3, Decay: 0.5, Threshold: 0.01},
			accept: func(n uint32) bool { return n != b && n != e },
			want: []Activated{
				{Node: a, Activation: 1, Hops: 0, Path: []uint32{a}},
				{Node: d, Activation: 0.25, Hops: 1, Path: []uint32{a, d}},
			},
			wantHops:    1,
			wantVisited: 2,
		},
		{
			name:        "seed without edges",
			seeds:       []Seed{{Node: f, Activation: 0.7}},
			params:      DefaultParams(),
			want:        []Activated{{Node: f, Activation: 0.7, Hops: 0, Path: []uint32{f}}},
			wantVisited: 1,
		},
		{
			name:   "no seeds",
			edges:  chain,
			params: DefaultParams(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := build(tt.edges)
			got := g.Spread(tt.seeds, tt.params, tt.accept)
			if !reflect.DeepEqual(got.Nodes, tt.want) {
				t.Errorf("Nodes = %v\nwant    %v", got.Nodes, tt.want)
			}
			if got.Hops != tt.wantHops {
				t.Errorf("Hops = %d, want %d", got.Hops, tt.wantHops)
			}
			if got.Visited != tt.wantVisited {
				t.Errorf("Visited = %d, want %d", got.Visited, tt.wantVisited)
			}
		})
	}
}

// TestSpreadChainFormula checks the documented activation formula on the chain with
// weights that are not powers of two.
func TestSpreadChainFormula(t *testing.T) {
	const seed, w1, w2, decay = float32(0.9), float32(0.7), float32(0.55), float32(0.6)
	g := build([]testEdge{{a: a, b: b, w: w1}, {a: b, b: c, w: w2}})
	res := g.Spread([]Seed{{Node: a, Activation: seed}}, Params{Decay: decay, Threshold: 0.01}, nil)
	want := seed * w1 * decay * w2 * decay
	for _, n := range res.Nodes {
		if n.Node != c {
			continue
		}
		if diff := n.Activation - want; diff > 1e-6 || diff < -1e-6 {
			t.Fatalf("activation(c) = %v, want %v", n.Activation, want)
		}
		if !reflect.DeepEqual(n.Path, []uint32{a, b, c}) || n.Hops != 2 {
			t.Fatalf("c reached by %v in %d hops, want [a b c] in 2", n.Path, n.Hops)
		}
		return
	}
	t.Fatalf("c not reached: %v", res.Nodes)
}

func TestSpreadZeroParamsAreDefaults(t *testing.T) {
	g := randomGraph(2000, 8, 3)
	seeds := randomSeeds(2000, 5, 4)
	if got, want := g.Spread(seeds, Params{}, nil), g.Spread(seeds, DefaultParams(), nil); !reflect.DeepEqual(got, want) {
		t.Fatal("Params{} and DefaultParams() disagree")
	}
}

func TestSpreadRemoveNodeRemovesReachability(t *testing.T) {
	g := build([]testEdge{{a: a, b: b, w: 0.9}, {a: b, b: c, w: 0.9}, {a: c, b: d, w: 0.9}})
	p := Params{MaxHops: 5, Decay: 0.9, Threshold: 0.01}
	seeds := []Seed{{Node: a, Activation: 1}}
	if got := reached(g.Spread(seeds, p, nil)); !reflect.DeepEqual(got, []uint32{a, b, c, d}) {
		t.Fatalf("before removal reached %v", got)
	}
	g.RemoveNode(b)
	if got := reached(g.Spread(seeds, p, nil)); !reflect.DeepEqual(got, []uint32{a}) {
		t.Fatalf("after RemoveNode(b) reached %v, want [a]", got)
	}
	if got := reached(g.Spread([]Seed{{Node: c, Activation: 1}}, p, nil)); !reflect.DeepEqual(got, []uint32{c, d}) {
		t.Fatalf("from c after RemoveNode(b) reached %v, want [c d]", got)
	}
}

// TestSpreadDeterministic builds the same random graph with edges added in different
// orders, spreads from the same seeds given in different orders, and requires identical
// results, including paths, every time.
func TestSpreadDeterministic(t *testing.T) {
	const nodes = 3000
	edges := randomEdges(nodes, 6, 11)
	// Quantised weights make equal offers, and so tie-breaking, common.
	for i := range edges {
		edges[i].w = float32(int(edges[i].w*4)+1) / 4
	}
	seeds := randomSeeds(nodes, 8, 12)
	p := Params{MaxHops: 4, Decay: 0.7, Threshold: 0.02, MaxFanout: 6, Budget: 500}
	var first Result
	for run := range 6 {
		order := append([]testEdge(nil), edges...)
		rng := rand.New(rand.NewPCG(uint64(run), 99))
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		sd := append([]Seed(nil), seeds...)
		rng.Shuffle(len(sd), func(i, j int) { sd[i], sd[j] = sd[j], sd[i] })
		g := build(order)
		res := g.Spread(sd, p, nil)
		if run == 0 {
			first = res
			if len(res.Nodes) < 50 {
				t.Fatalf("spread reached only %d nodes; graph too sparse to test ties", len(res.Nodes))
			}
			continue
		}
		if !reflect.DeepEqual(res, first) {
			t.Fatalf("run %d differs from run 0", run)
		}
		if again := g.Spread(sd, p, nil); !reflect.DeepEqual(again, first) {
			t.Fatalf("run %d: second Spread on the same graph differs", run)
		}
	}
}

// TestSpreadMatchesExhaustiveSearch compares activations with the definition: the best
// product over all walks of at most MaxHops hops from a seed whose inner nodes are
// accepted non-seeds (accepted nodes with RaiseSeeds), or a seed's own activation if
// larger, when neither fanout nor budget limits the search.
func TestSpreadMatchesExhaustiveSearch(t *testing.T) {
	for trial := range 40 {
		t.Run(fmt.Sprint(trial), func(t *testing.T) {
			const nodes = 60
			edges := randomEdges(nodes, 4, uint64(trial%20))
			g := build(edges)
			seeds := randomSeeds(nodes, 3, uint64(trial%20)+1000)
			accept := func(n uint32) bool { return n%7 != 3 }
			// Odd trials let associations raise seeds; trials 0-19 and 20-39 cover the same
			// graphs both ways.
			p := Params{MaxHops: 1 + trial%4, Decay: 0.8, Threshold: 0.03, MaxFanout: nodes, Budget: 1 << 30, RaiseSeeds: trial >= 20}
			got := map[uint32]float32{}
			for _, n := range g.Spread(seeds, p, accept).Nodes {
				got[n.Node] = n.Activation
				if err := checkPath(g, n, seeds); err != nil {
					t.Fatal(err)
				}
			}
			if want := exhaustive(g, seeds, p, accept); !reflect.DeepEqual(got, want) {
				t.Fatalf("Spread activations %v\nexhaustive           %v", got, want)
			}
		})
	}
}

// exhaustive enumerates walks depth-first; fine for tiny graphs.
func exhaustive(g *Graph, seeds []Seed, p Params, accept func(uint32) bool) map[uint32]float32 {
	isSeed := map[uint32]float32{}
	for _, s := range seeds {
		if accept(s.Node) && s.Activation >= p.Threshold {
			isSeed[s.Node] = max(isSeed[s.Node], s.Activation)
		}
	}
	best := map[uint32]float32{}
	for n, act := range isSeed {
		best[n] = act
	}
	var walk func(n uint32, act float32, hops int)
	walk = func(n uint32, act float32, hops int) {
		if hops == p.MaxHops {
			return
		}
		for _, e := range g.Neighbors(n) {
			next := act * p.Decay * e.Weight
			_, seed := isSeed[e.To]
			if next < p.Threshold || (seed && !p.RaiseSeeds) || !accept(e.To) {
				continue
			}
			best[e.To] = max(best[e.To], next)
			walk(e.To, next, hops+1)
		}
	}
	for n, act := range isSeed {
		walk(n, act, 0)
	}
	return best
}

// checkPath verifies that a reported path is a real walk from a seed whose product is
// the reported activation.
func checkPath(g *Graph, n Activated, seeds []Seed) error {
	if len(n.Path) != n.Hops+1 || n.Path[len(n.Path)-1] != n.Node {
		return fmt.Errorf("node %d: path %v inconsistent with hops %d", n.Node, n.Path, n.Hops)
	}
	act := float32(0)
	for _, s := range seeds {
		if s.Node == n.Path[0] {
			act = max(act, s.Activation)
		}
	}
	for i := 1; i < len(n.Path); i++ {
		w := float32(0)
		for _, e := range g.Neighbors(n.Path[i-1]) {
			if e.To == n.Path[i] {
				w = e.Weight
			}
		}
		if w == 0 {
			return fmt.Errorf("node %d: path %v uses a missing edge", n.Node, n.Path)
		}
		act = act * 0.8 * w
	}
	if act != n.Activation {
		return fmt.Errorf("node %d: path %v gives %v, reported %v", n.Node, n.Path, act, n.Activation)
	}
	return nil
}

// TestSpreadConcurrentWithWriters runs Spreads while one writer adds and removes edges;
// run with -race. Every result must be internally consistent.
func TestSpreadConcurrentWithWriters(t *testing.T) {
	const nodes = 5000
	g := randomGraph(nodes, 6, 21)
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		rng := rand.New(rand.NewPCG(5, 6))
		for i := range 20000 {
			n := uint32(rng.IntN(nodes + 500)) // some writes link brand-new nodes
			switch {
			case i%50 == 0:
				g.RemoveNode(n)
			case i%7 == 0:
				g.AddEdges(n, []Edge{{To: uint32(rng.IntN(nodes)), Weight: rng.Float32(), Kind: KindTemporal}})
			default:
				g.AddEdge(n, uint32(rng.IntN(nodes)), rng.Float32(), KindSimilarity)
			}
		}
	}()
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 7))
			for {
				select {
				case <-done:
					return
				default:
				}
				res := g.Spread(randomSeeds(nodes, 4, rng.Uint64()), DefaultParams(), func(n uint32) bool { return n%11 != 0 })
				if res.Visited > DefaultBudget {
					t.Errorf("visited %d > budget", res.Visited)
					return
				}
				for i, n := range res.Nodes {
					if len(n.Path) != n.Hops+1 || n.Path[n.Hops] != n.Node || n.Node%11 == 0 || n.Activation < DefaultThreshold {
						t.Errorf("inconsistent node %+v", n)
						return
					}
					if i > 0 && res.Nodes[i-1].Activation < n.Activation {
						t.Errorf("result not sorted at %d", i)
						return
					}
				}
				_ = g.Neighbors(uint32(rng.IntN(nodes)))
				_ = g.Degree(uint32(rng.IntN(nodes)))
			}
		}()
	}
	wg.Wait()
	checkSymmetric(t, g)
}

// offer is the activation a parent passes over one edge, computed in float32 in the
// order Spread uses (untyped constant expressions would be exact instead).
func offer(parent, weight, decay float32) float32 {
	return parent * decay * weight
}

func reached(r Result) []uint32 {
	var out []uint32
	for _, n := range r.Nodes {
		out = append(out, n.Node)
	}
	return out
}

// randomEdges returns about nodes×degree/2 edges between random pairs, weights in [0.3, 1).
func randomEdges(nodes, degree int, seed uint64) []testEdge {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	edges := make([]testEdge, 0, nodes*degree/2)
	for range nodes * degree / 2 {
		edges = append(edges, testEdge{
			a: uint32(rng.IntN(nodes)), b: uint32(rng.IntN(nodes)),
			w: 0.3 + 0.7*rng.Float32(), kind: KindSimilarity,
		})
	}
	return edges
}

func randomGraph(nodes, degree int, seed uint64) *Graph {
	return build(randomEdges(nodes, degree, seed))
}

// randomSeeds returns k seeds with activations in [0.5, 1), like direct-match similarities.
func randomSeeds(nodes, k int, seed uint64) []Seed {
	rng := rand.New(rand.NewPCG(seed, 17))
	out := make([]Seed, k)
	for i := range out {
		out[i] = Seed{Node: uint32(rng.IntN(nodes)), Activation: 0.5 + 0.5*rng.Float32()}
	}
	return out
}
