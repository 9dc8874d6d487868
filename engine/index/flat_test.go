package index

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// integerSlab fills rows*dim components with small integers: every dot product is then an
// exact float32 integer whatever the summation order, so results can be compared exactly,
// and equal scores are common enough to exercise the row tie-break.
func integerSlab(rows, dim int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	s := make([]float32, rows*dim)
	for i := range s {
		s[i] = float32(rng.IntN(5) - 2)
	}
	return s
}

// bruteTopK is the reference: score every accepted row exactly, sort, cut.
func bruteTopK(query, slab []float32, dim int, rows []uint32, k int, accept func(uint32) bool) []Scored {
	var all []Scored
	for _, r := range rows {
		if accept != nil && !accept(r) {
			continue
		}
		var s float32
		for j := range dim {
			s += query[j] * slab[int(r)*dim+j]
		}
		all = append(all, Scored{Row: r, Score: s})
	}
	SortScored(all)
	if len(all) > k {
		all = all[:k]
	}
	return all
}

func rowRange(n int) []uint32 {
	rows := make([]uint32, n)
	for i := range rows {
		rows[i] = uint32(i)
	}
	return rows
}

func TestTopKMatchesBruteForce(t *testing.T) {
	even := func(r uint32) bool { return r%2 == 0 }
	none := func(uint32) bool { return false }
	tests := []struct {
		name    string
		rows    int
		dim     int
		k       int
		accept  func(uint32) bool
		scratch int
	}{
		{"one block", 500, 16, 10, nil, 0},
		{"across blocks", 2500, 16, 10, nil, 0},
		{"exact block multiple", 2048, 8, 5, nil, flatBlockRows},
		{"k larger than rows", 7, 16, 50, nil, 0},
		{"k of one", 3000, 32, 1, nil, 0},
		{"filtered", 2500, 16, 20, even, 0},
		{"everything rejected", 300, 16, 10, none, 0},
		{"large k", 1500, 4, 1000, nil, 4096}, // dim 4: many ties
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slab := integerSlab(tt.rows, tt.dim, uint64(i))
			for q := range 5 {
				query := integerSlab(1, tt.dim, uint64(1000+10*i+q))
				var scratch []float32
				if tt.scratch > 0 {
					scratch = make([]float32, tt.scratch)
				}
				got := TopK(query, slab, tt.dim, tt.rows, tt.k, tt.accept, scratch)
				want := bruteTopK(query, slab, tt.dim, rowRange(tt.rows), tt.k, tt.accept)
				if !slices.Equal(got, want) {
					t.Fatalf("query %d: TopK = %v\nwant %v", q, got, want)
				}
			}
		})
	}
}

func TestTopKDegenerateInputs(t *testing.T) {
	slab := integerSlab(10, 4, 1)
	query := []float32{1, 0, 0, 0}
	tests := []struct {
		name  string
		query []float32
		rows  int
		k     int
	}{
		{"k zero", query, 10, 0},
		{"no rows", query, 0, 3},
		{"query of wrong dimension", []float32{1, 0}, 10, 3},
	}
	for _, tt := range tests {
		if got := TopK(tt.query, slab, 4, tt.rows, tt.k, nil, nil); got != nil {
			t.Errorf("%s: TopK = %v, want nil", tt.name, got)
		}
	}
	// rows beyond the slab are clamped, not read.
	if got := TopK(query, slab, 4, 1000, 100, nil, nil); len(got) != 10 {
		t.Errorf("TopK over a short slab returned %d rows, want 10", len(got))
	}
}

func TestTopKAsksAcceptOnlyForContenders(t *testing.T) {
	const rows, dim, k = 5000, 8, 5
	slab := integerSlab(rows, dim, 3)
	query := integerSlab(1, dim, 4)
	asked := 0
	got := TopK(query, slab, dim, rows, k, func(uint32) bool { asked++; return true }, nil)
	if len(got) != k {
		t.Fatalf("got %d results, want %d", len(got), k)
	}
	if asked >= rows/2 {
		t.Errorf("accept was asked %d times for %d rows and k=%d; it should only see rows that enter the top k", asked, rows, k)
	}
}

func TestTopKRowsMatchesBruteForce(t *testing.T) {
	const rows, dim = 3000, 16
	slab := integerSlab(rows, dim, 7)
	rng := rand.New(rand.NewPCG(8, 8))
	sparse := make([]uint32, 400)
	for i := range sparse {
		sparse[i] = uint32(rng.IntN(rows))
	}
	withRepeats := append(slices.Clone(sparse), sparse[:100]...)
	withOutOfRange := append(slices.Clone(sparse), rows, rows+5, 1<<31)
	distinct := slices.Compact(slices.Sorted(slices.Values(sparse)))
	odd := func(r uint32) bool { return r%2 == 1 }

	tests := []struct {
		name   string
		list   []uint32
		k      int
		accept func(uint32) bool
	}{
		{"sparse", sparse, 10, nil},
		{"repeated rows counted once", withRepeats, 25, nil},
		{"rows outside the slab ignored", withOutOfRange, 10, nil},
		{"filtered", sparse, 10, odd},
		{"k above list", sparse, 1000, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			query := integerSlab(1, dim, 9)
			got := TopKRows(query, slab, dim, tt.list, tt.k, tt.accept)
			want := bruteTopK(query, slab, dim, distinct, tt.k, tt.accept)
			if !slices.Equal(got, want) {
				t.Fatalf("TopKRows = %v\nwant %v", got, want)
			}
		})
	}
}

// TestInt8ScanMergeParts: rows split among parts in any way (runs scanned out of order,
// parts of one row, empty parts), the parts merged into one scan, rank exactly the rows one
// scan of them all ranks; small integer codes make equal scores, and so the row tie-break,
// common.
func TestInt8ScanMergeParts(t *testing.T) {
	const dim, rows = 16, 3000
	rng := rand.New(rand.NewPCG(3, 4))
	codes := make([]int8, rows*dim)
	for i := range codes {
		codes[i] = int8(rng.IntN(5) - 2)
	}
	scales := slices.Repeat([]float32{1}, rows)
	qc := make([]int8, dim)
	for i := range qc {
		qc[i] = int8(rng.IntN(5) - 2)
	}
	for _, tc := range []struct {
		name  string
		k     int
		cuts  []int // the parts' first rows after the first part's 0
		parts int   // parts the runs are dealt to, round robin
	}{
		{"one part", 40, nil, 1},
		{"two halves", 40, []int{1500}, 2},
		{"blocks dealt to three", 72, []int{256, 512, 768, 1024, 1280, 2999}, 3},
		{"k above rows of a part", 500, []int{1, 2, 1000}, 4},
		{"more parts than runs", 10, []int{700}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			whole := NewInt8Scan(qc, 0.5, tc.k)
			whole.Scan(codes, scales, rows, 0, nil)
			want := whole.Sorted()

			into := NewInt8Scan(qc, 0.5, tc.k)
			parts := []*Int8Scan{into}
			for len(parts) < tc.parts {
				parts = append(parts, into.Part())
			}
			bounds := append(append([]int{0}, tc.cuts...), rows)
			for i := len(bounds) - 2; i >= 0; i-- { // last run first
				lo, hi := bounds[i], bounds[i+1]
				parts[i%len(parts)].Scan(codes[lo*dim:hi*dim], scales[lo:hi], hi-lo, uint32(lo), nil)
			}
			for _, p := range parts[1:] {
				into.Merge(p)
			}
			if got := into.Sorted(); !slices.Equal(got, want) {
				t.Fatalf("merged parts %v\none scan     %v", got, want)
			}
		})
	}
}
