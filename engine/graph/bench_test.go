package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

const (
	benchNodes  = 100_000
	benchDegree = 10
	benchSeeds  = 10
)

// BenchmarkSpread spreads from 10 seeds over a 100,000-node random graph with average
// degree 10 (weights uniform in [0.3, 1), seed activations in [0.5, 1)) with the
// default parameters. Seed sets rotate so the caches see varied neighbourhoods. The
// degree=40 case makes most fanout blocks long enough for the vector kernel.
func BenchmarkSpread(b *testing.B) {
	for _, degree := range []int{benchDegree, 40} {
		b.Run(fmt.Sprintf("degree=%d", degree), func(b *testing.B) {
			g := randomGraph(benchNodes, degree, 1)
			seedSets := make([][]Seed, 64)
			for i := range seedSets {
				seedSets[i] = randomSeeds(benchNodes, benchSeeds, uint64(i))
			}
			p := DefaultParams()
			accept := func(n uint32) bool { return true }
			b.ReportAllocs()
			visited, reachedNodes := 0, 0
			for i := 0; b.Loop(); i++ {
				res := g.Spread(seedSets[i%len(seedSets)], p, accept)
				visited += res.Visited
				reachedNodes += len(res.Nodes)
			}
			b.ReportMetric(float64(visited)/float64(b.N), "visited/op")
			b.ReportMetric(float64(reachedNodes)/float64(b.N), "nodes/op")
		})
	}
}

// BenchmarkSpreadParallel is BenchmarkSpread with concurrent callers, as recall runs.
func BenchmarkSpreadParallel(b *testing.B) {
	g := randomGraph(benchNodes, benchDegree, 1)
	p := DefaultParams()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 3))
		for pb.Next() {
			g.Spread(randomSeeds(benchNodes, benchSeeds, rng.Uint64()), p, nil)
		}
	})
}

// BenchmarkAddEdge adds random edges among 100,000 nodes, average degree growing to 10
// over the first 500,000 operations.
func BenchmarkAddEdge(b *testing.B) {
	edges := randomEdges(benchNodes, benchDegree, 2)
	g := New()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i > 0 && i%len(edges) == 0 {
			b.StopTimer()
			g = New()
			b.StartTimer()
		}
		e := edges[i%len(edges)]
		g.AddEdge(e.a, e.b, e.w, KindSimilarity)
	}
}

// BenchmarkAddEdges links each new node to 10 earlier ones in one call, as the engine
// does for a new memory and its most similar predecessors; ns/op is per new node.
func BenchmarkAddEdges(b *testing.B) {
	rng := rand.New(rand.NewPCG(4, 5))
	links := make([][]Edge, benchNodes)
	for n := range links {
		for range min(n, benchDegree) {
			links[n] = append(links[n], Edge{To: uint32(rng.IntN(n)), Weight: 0.3 + 0.7*rng.Float32(), Kind: KindSimilarity})
		}
	}
	g := New()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		n := i % benchNodes
		if i > 0 && n == 0 {
			b.StopTimer()
			g = New()
			b.StartTimer()
		}
		g.AddEdges(uint32(n), links[n])
	}
}
