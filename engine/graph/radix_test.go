package graph

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSortKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	tests := []struct {
		name string
		gen  func() uint64
		n    int
	}{
		{"short", rng.Uint64, radixThreshold - 1},
		{"random", rng.Uint64, 5000},
		{"rank keys", func() uint64 { return rankKey(0.05+rng.Float32(), uint32(rng.IntN(100000))) }, 3000},
		{"all equal", func() uint64 { return 42 }, 1000},
		{"one varying byte", func() uint64 { return 0xabcd<<40 | uint64(rng.IntN(256))<<16 }, 1000},
	}
	var buf []uint64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := make([]uint64, tt.n)
			for i := range keys {
				keys[i] = tt.gen()
			}
			want := slices.Clone(keys)
			slices.Sort(want)
			var got []uint64
			got, buf = sortKeys(keys, buf)
			if !slices.Equal(got, want) {
				t.Fatal("radix order differs from slices.Sort")
			}
		})
	}
}
