package engine

import (
	"math/rand/v2"
	"slices"
	"testing"

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
