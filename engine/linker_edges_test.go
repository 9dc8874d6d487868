package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/engram-go/engram/engine/graph"
	"github.com/engram-go/engram/engine/index"
)

// TestKeepBest checks keepBest against sorting everything and keeping the head, on lists
// with ties (equal scores rank by row) and on more candidates than room.
func TestKeepBest(t *testing.T) {
	cases := []struct {
		name   string
		n, add int
		scores int // distinct score values: few make ties
	}{
		{"room for all", 20, 10, 1000},
		{"more than room", 13, 4096, 1000},
		{"ties", 13, 500, 3},
		{"one", 1, 50, 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.n), uint64(c.add)))
			var all, best []index.Scored
			for i := range c.add {
				s := index.Scored{Row: uint32(i*7919) % 100003, Score: float32(rng.IntN(c.scores)) / float32(c.scores)}
				all = append(all, s)
				best = keepBest(best, s, c.n)
			}
			index.SortScored(all)
			if want := all[:min(len(all), c.n)]; !slices.Equal(best, want) {
				t.Fatalf("keepBest kept %v, want %v", best, want)
			}
		})
	}
}

// TestLinkDegreeBound: memories that all resemble the same earlier ones (here the same
// vector again and again) do not pile their similarity edges onto them. No memory takes a
// similarity edge once it has maxLinkDegree edges, whether the copies arrive one at a
// time or in batches whose members choose their edges together; the earliest copies
// fill up to the bound, and later copies link to the next candidates instead; a copy left
// with no room among its candidates is not taken for an isolated memory.
func TestLinkDegreeBound(t *testing.T) {
	const copies = 300
	cases := []struct {
		name  string
		batch int
	}{
		{"one at a time", 1},
		{"batches of 100", 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := openTest(t, testConfig(t, t.TempDir()))
			defer e.Close()
			s := mustSpace(t, e, "hub")
			ctx := context.Background()
			for done := 0; done < copies; done += c.batch {
				ms := make([]Memory, c.batch)
				for i := range ms {
					ms[i] = Memory{Content: fmt.Sprintf("copy %d", done+i), Embedding: zeroPadded(16, 1, 1), Confidence: 0.8}
				}
				if _, errs := s.RememberBatch(ctx, ms, RememberOptions{}); errors.Join(errs...) != nil {
					t.Fatal(errors.Join(errs...))
				}
			}
			other := mustSpace(t, e, "other")
			if _, err := other.Remember(ctx, Memory{Content: "alone", Embedding: zeroPadded(16, 1, 1)}, RememberOptions{}); err != nil {
				t.Fatal(err)
			}
			waitLinkedSpace(s)
			waitLinkedSpace(other)

			g := s.st.graph
			similarityEdges, full := 0, 0
			for r := range uint32(copies) {
				d := g.Degree(r)
				if d > maxLinkDegree+temporalNeighbours {
					t.Fatalf("row %d has %d edges, bound %d (+%d temporal)", r, d, maxLinkDegree, temporalNeighbours)
				}
				if d >= maxLinkDegree {
					full++
				}
				for _, ed := range g.Neighbors(r) {
					if ed.Kind == graph.KindSimilarity {
						similarityEdges++
					}
				}
			}
			if full < linkTopK {
				t.Fatalf("%d rows reached the bound, want at least %d: the copies should fill the earliest ones", full, linkTopK)
			}
			// Each copy links to linkTopK earlier ones while candidates have room: far more
			// edges than the earliest copies alone could hold.
			if similarityEdges/2 < 2*maxLinkDegree {
				t.Fatalf("%d similarity edges in all, want later copies linked past the full ones", similarityEdges/2)
			}
			// Copies passed over by full ones are crowded, not isolated: only the first two
			// (with fewer than two earlier copies to link to) count as sparse.
			l := &s.st.link
			l.mu.Lock()
			sparse := slices.Clone(l.sparse)
			l.mu.Unlock()
			if slices.ContainsFunc(sparse, func(r uint32) bool { return r >= sparseLinks }) {
				t.Fatalf("sparse rows %v: copies passed over by full memories counted as isolated", sparse)
			}
			if d := other.st.graph.Degree(0); d != 0 {
				t.Fatalf("the other space's only memory has %d edges", d)
			}
			res, err := other.Recall(ctx, Cue{Embedding: zeroPadded(16, 1, 1), MaxResults: 50, Threshold: 0.0001, NoReinforce: true})
			if err != nil {
				t.Fatal(err)
			}
			if hits := allHits(res); len(hits) != 1 || hits[0].Memory.Content != "alone" {
				t.Fatalf("the other space recalls %d memories, want only its own", len(hits))
			}
		})
	}
}
