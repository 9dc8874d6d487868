package tier

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/engram-go/engram/simd"
)

// referenceHits ranks records by a caller-supplied score, the way Scan promises to.
func referenceHits(recs []Record, k int, score func(i int) float32, accept func(int) bool) []Hit {
	var all []Hit
	for i := range recs {
		if len(recs[i].Vector) == 0 || (accept != nil && !accept(i)) {
			continue
		}
		all = append(all, Hit{Index: i, Score: score(i)})
	}
	slices.SortFunc(all, func(a, b Hit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Index, b.Index)
	})
	if len(all) > k {
		all = all[:k]
	}
	return all
}

func TestScanMatchesBruteForce(t *testing.T) {
	const n, dim = 1500, 96
	recs := makeRecords(11, recordSet{n: n, dim: dim, noVectorEvery: 10})
	q := randUnit(rand.New(rand.NewPCG(12, 13)), dim)

	// Warm scores are exact float32 dot products; the reference uses float64 sums, which
	// differ by rounding only, far below the gaps between random scores.
	warmScore := func(i int) float32 { return float32(dot64(q, recs[i].Vector)) }
	// Cold scores are reproduced with the same quantisation and integer dot product.
	qcodes := make([]int8, dim)
	qscale := simd.Quantize(q, qcodes)
	coldScore := func(i int) float32 {
		codes := make([]int8, dim)
		scale := simd.Quantize(recs[i].Vector, codes)
		return float32(simd.DotInt8(qcodes, codes)) * qscale * scale
	}

	accepts := []struct {
		name   string
		accept func(int) bool
	}{
		{"all", nil},
		{"even", func(i int) bool { return i%2 == 0 }},
		{"none", func(int) bool { return false }},
		{"first 20", func(i int) bool { return i < 20 }},
	}
	for _, kind := range []Kind{KindWarm, KindCold} {
		s := openTemp(t, kind, dim, recs)
		score := warmScore
		if kind == KindCold {
			score = coldScore
		}
		for _, a := range accepts {
			for _, k := range []int{1, 10, 100, n + 5} {
				t.Run(kind.String()+"/"+a.name, func(t *testing.T) {
					want := referenceHits(recs, k, score, a.accept)
					got := s.Scan(q, k, a.accept)
					if len(got) != len(want) {
						t.Fatalf("k=%d: %d hits, want %d", k, len(got), len(want))
					}
					for r := range want {
						if got[r].Index != want[r].Index {
							t.Fatalf("k=%d: hit %d is record %d (%v), want %d (%v)", k, r, got[r].Index, got[r].Score, want[r].Index, want[r].Score)
						}
						tol := float32(1e-5)
						if kind == KindCold {
							tol = 0
						}
						if d := got[r].Score - want[r].Score; d > tol || d < -tol {
							t.Fatalf("k=%d: hit %d scores %v, want %v", k, r, got[r].Score, want[r].Score)
						}
					}
				})
			}
		}
	}
}

func TestScanCallsAcceptOnlyForContenders(t *testing.T) {
	const n, dim = 2000, 32
	recs := makeRecords(14, recordSet{n: n, dim: dim, noVectorEvery: 3})
	q := randUnit(rand.New(rand.NewPCG(15, 16)), dim)
	for _, kind := range []Kind{KindWarm, KindCold} {
		t.Run(kind.String(), func(t *testing.T) {
			s := openTemp(t, kind, dim, recs)
			calls, last := 0, -1
			s.Scan(q, 10, func(i int) bool {
				calls++
				if len(recs[i].Vector) == 0 {
					t.Errorf("accept called for record %d, which has no vector", i)
				}
				if i <= last {
					t.Errorf("accept called for %d after %d", i, last)
				}
				last = i
				return true
			})
			// Random scores enter a top-10 about 10·ln(n/10) times in a scan of n.
			if calls == 0 || calls > n/4 {
				t.Errorf("accept called %d times for %d records", calls, n)
			}
		})
	}
}

func TestScanDegenerateInputs(t *testing.T) {
	recs := makeRecords(17, recordSet{n: 30, dim: 8, noVectorEvery: 2})
	noVectors := makeRecords(18, recordSet{n: 30, dim: 0})
	q := randUnit(rand.New(rand.NewPCG(19, 20)), 8)
	for _, kind := range []Kind{KindWarm, KindCold} {
		s := openTemp(t, kind, 8, recs)
		empty := openTemp(t, kind, 8, nil)
		none := openTemp(t, kind, 0, noVectors)
		tests := []struct {
			name string
			seg  *Segment
			q    []float32
			k    int
			want int
		}{
			{"k zero", s, q, 0, 0},
			{"k negative", s, q, -3, 0},
			{"short query", s, q[:7], 5, 0},
			{"long query", s, append(q, 0), 5, 0},
			{"empty segment", empty, q, 5, 0},
			{"no vectors", none, q, 5, 0},
			{"k past vectors", s, q, 100, 15},
			{"zero query", s, make([]float32, 8), 4, 4},
		}
		for _, tt := range tests {
			t.Run(kind.String()+"/"+tt.name, func(t *testing.T) {
				got := tt.seg.Scan(tt.q, tt.k, nil)
				if len(got) != tt.want {
					t.Fatalf("%d hits, want %d", len(got), tt.want)
				}
				for r := 1; r < len(got); r++ {
					a, b := got[r-1], got[r]
					if a.Score < b.Score || (a.Score == b.Score && a.Index > b.Index) {
						t.Fatalf("hits out of order: %v before %v", a, b)
					}
				}
			})
		}
	}
}

// TestColdRecallQuality bounds the search quality lost to int8 quantisation: the cold
// top-10 must contain at least 95% of the exact float32 top-10.
func TestColdRecallQuality(t *testing.T) {
	const n, queries, k = 20000, 200, 10
	for _, dim := range []int{128, 768} {
		t.Run("dim"+strconv.Itoa(dim), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(dim), 21))
			recs := make([]Record, n)
			slab := make([]float32, n*dim)
			for i := range recs {
				v := randUnit(r, dim)
				copy(slab[i*dim:], v)
				recs[i] = Record{ID: "m" + strconv.Itoa(i), Vector: v, Norm: 1}
			}
			s := openTemp(t, KindCold, dim, recs)
			exact := make([]float32, n)
			found := 0
			for range queries {
				q := randUnit(r, dim)
				simd.DotBatch(q, slab, dim, exact)
				want := referenceHits(recs, k, func(i int) float32 { return exact[i] }, nil)
				truth := make(map[int]bool, k)
				for _, h := range want {
					truth[h.Index] = true
				}
				for _, h := range s.Scan(q, k, nil) {
					if truth[h.Index] {
						found++
					}
				}
			}
			recall := float64(found) / (queries * k)
			t.Logf("cold recall@%d over %d×%d-d: %.4f", k, n, dim, recall)
			if recall < 0.95 {
				t.Errorf("cold recall@%d = %.4f, want ≥ 0.95", k, recall)
			}
		})
	}
}
