package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/engram-go/engram/internal/prefault"
	"github.com/engram-go/engram/simd"
)

func TestSlabChunkLayout(t *testing.T) {
	// Every row maps to exactly one chunk slot, in order, with no gaps.
	c, off := 0, 0
	for r := 0; r < slabGrowRows+3*slabChunkRows; r++ {
		gc, goff := chunkOf(r)
		if gc != c || goff != off {
			t.Fatalf("row %d: chunk %d offset %d, want %d %d", r, gc, goff, c, off)
		}
		if chunkStart(gc)+goff != r {
			t.Fatalf("row %d: chunkStart(%d)+%d != row", r, gc, goff)
		}
		if off++; off == chunkRows(c) {
			c, off = c+1, 0
		}
	}
	s := newSlab(4)
	s.reserve(0, 1)
	if got := s.allocatedRows(); got != slabFirstRows {
		t.Fatalf("one memory reserves %d rows, want %d", got, slabFirstRows)
	}
	s.reserve(5000, 5001)
	copy(s.row(5000), []float32{1, 2, 3, 4})
	var seen []int
	s.blocks(0, 6000, 1000, func(first int, vecs []float32) { seen = append(seen, first, len(vecs)/4) })
	want := []int{0, slabFirstRows, slabGrowRows, 1000, slabGrowRows + 1000, 6000 - slabGrowRows - 1000}
	if fmt.Sprint(seen) != fmt.Sprint(want) || s.row(5000)[3] != 4 {
		t.Fatalf("blocks over a sparse slab: %v, want %v", seen, want)
	}
}

// TestSlabTopKCoded: ranking by codes first and rescoring the best several times k gives
// the exact scan's top k, scores included, and honours accept.
func TestSlabTopKCoded(t *testing.T) {
	for _, tc := range []struct {
		name      string
		dim, rows int
		k         int
		lo        int
	}{
		{"768-d, 20k rows", 768, 20000, 10, 0},
		{"768-d, tail of 9k rows", 768, 15000, 10, 6000},
		{"64-d, 30k rows, k=50", 64, 30000, 50, 0},
		{"768-d, tail of 600 rows, k=30", 768, 12000, 30, 11400},
		{"below the coded range", 32, 400, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.dim), uint64(tc.rows)))
			s := newSlab(tc.dim)
			s.reserve(0, tc.rows)
			for r := range tc.rows {
				v := s.row(uint32(r))
				for i := range v {
					v[i] = float32(rng.NormFloat64())
				}
				simd.Normalize(v)
				s.encode(uint32(r))
			}
			odd := func(r uint32) bool { return r%2 == 1 }
			for q := range 20 {
				query := append([]float32(nil), s.row(uint32(rng.IntN(tc.rows)))...)
				for i := range query { // near a stored row, as real queries are
					query[i] += float32(rng.NormFloat64()) * 0.02
				}
				simd.Normalize(query)
				for _, accept := range []func(uint32) bool{nil, odd} {
					got := s.topKCoded(query, tc.lo, tc.rows, tc.k, accept)
					want := s.topK(query, tc.lo, tc.rows, tc.k, accept)
					// Rescoring uses simd.Dot, as the HNSW does; the scan's batched kernel
					// sums in another order, so scores may differ in the last bits.
					same := len(got) == len(want)
					for i := 0; same && i < len(got); i++ {
						same = got[i].Row == want[i].Row && math.Abs(float64(got[i].Score-want[i].Score)) < 1e-5
					}
					if !same {
						t.Fatalf("query %d (filtered %v):\ncoded %v\nexact %v", q, accept != nil, got, want)
					}
				}
			}
		})
	}
}

// checkCodes fails unless every hot row's code is its vector quantised: each path that
// writes a vector into the slab (remember, replay, checkpoint restore, promotion) must
// encode it.
func checkCodes(t *testing.T, s *Space) {
	t.Helper()
	readState(t, s, func(st *state) {
		want := make([]int8, st.dim)
		checked := 0
		for row, lm := range st.byRow {
			if lm == nil || !lm.hasVec || lm.seg != nil || !st.aliveLocked(uint32(row)) {
				continue
			}
			code, scale := st.slab.code(uint32(row))
			if ws := simd.Quantize(st.vectorOf(uint32(row)), want); ws != scale || !slices.Equal(code, want) {
				t.Fatalf("row %d (%s): code out of date (scale %v, want %v)", row, lm.m.ID, scale, ws)
			}
			checked++
		}
		if checked == 0 {
			t.Fatal("no hot row with a vector to check")
		}
	})
}

// TestSlabPrefault: a small space backs nothing ahead; a large one backs the rows just
// ahead of its next row (reserving their chunks) once fewer than a sixteenth of its rows
// are, never more than 2·slabPrefaultLead, and rows already written keep their values.
func TestSlabPrefault(t *testing.T) {
	s := newSlab(8)
	s.prefault(slabPrefaultFrom - 1)
	if got := s.faulted.Load(); got != 0 {
		t.Fatalf("a space of %d rows backed rows up to %d ahead of need", slabPrefaultFrom-1, got)
	}
	if !prefault.Supported {
		t.Skip("no prefaulting on this platform")
	}
	s.reserve(0, 9000)
	for r := range 9000 {
		s.row(uint32(r))[0] = float32(r)
	}
	for _, tc := range []struct {
		next, wantFaulted int
	}{
		{9000, 9000 + 2*(9000/16)}, // none ahead: back 2·lead
		{9500, 9000 + 2*(9000/16)}, // still a lead ahead: nothing to do
		{9600, 9600 + 2*(9600/16)}, // fewer than a lead ahead: back more
		{40000, 40000 + 2*slabPrefaultLead},
	} {
		s.prefault(tc.next)
		if got := int(s.faulted.Load()); got != tc.wantFaulted {
			t.Fatalf("prefault(%d): backed up to %d, want %d", tc.next, got, tc.wantFaulted)
		}
		if !s.has(tc.next, tc.wantFaulted) {
			t.Fatalf("prefault(%d): rows up to %d not reserved", tc.next, tc.wantFaulted)
		}
	}
	for r := range 9000 {
		if got := s.row(uint32(r))[0]; got != float32(r) {
			t.Fatalf("row %d holds %v after prefault, want %d", r, got, r)
		}
	}
}

// BenchmarkSlabTail ranks the last rows of a slab, as recall ranks the rows the index has
// not taken yet: exactly (topK) and by codes first (topKCoded, the 4×k best rescored), for
// the sizes about codedScanRows.
func BenchmarkSlabTail(b *testing.B) {
	const dim, rows, k = 768, 16384, 30
	rng := rand.New(rand.NewPCG(3, 4))
	s := randomCodedSlab(dim, rows, rng)
	q := append([]float32(nil), s.row(7)...)
	for _, tail := range []int{128, 256, 512, 1024, 2048, 4096} {
		for _, how := range []string{"exact", "coded"} {
			b.Run(fmt.Sprintf("rows=%d/%s", tail, how), func(b *testing.B) {
				for range b.N {
					if how == "exact" {
						s.topK(q, rows-tail, rows, k, nil)
					} else {
						s.rankCoded(q, rows-tail, rows, k, nil)
					}
				}
			})
		}
	}
}
