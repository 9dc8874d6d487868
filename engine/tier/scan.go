package tier

import (
	"cmp"
	"slices"

	"github.com/engram-go/engram/simd"
)

// scanBlockRows is how many rows one batch kernel call scores. The scores of a block fit
// in a few cache lines; the rows themselves are read straight from the mapping.
const scanBlockRows = 256

// Scan scores every record that has a vector against the normalised query q and returns
// the k best that accept admits, sorted by score descending, then index ascending.
//
// Warm segments are scored exactly, with simd.DotBatch over the mapped float32 rows. Cold
// segments quantise q once with simd.Quantize and score with simd.DotInt8Batch over the
// mapped int8 rows: score = dot × query scale × row scale.
//
// accept may be nil (every record is admitted). It is called only for records whose score
// would enter the current best k, in ascending index order, so it must be a pure function
// of the index; a record it rejects is skipped. Scan returns nil when k ≤ 0, when the
// segment holds no vectors, or when len(q) differs from Dim().
func (s *Segment) Scan(q []float32, k int, accept func(i int) bool) []Hit {
	if k <= 0 || s.n == 0 || s.dim == 0 || len(q) != s.dim {
		return nil
	}
	top := topK{k: min(k, s.n)}
	if s.kind == KindWarm {
		s.scanWarm(q, &top, accept)
	} else {
		s.scanCold(q, &top, accept)
	}
	return top.sorted()
}

func (s *Segment) scanWarm(q []float32, top *topK, accept func(int) bool) {
	var scores [scanBlockRows]float32
	for start := 0; start < s.n; start += scanBlockRows {
		m := min(scanBlockRows, s.n-start)
		simd.DotBatch(q, s.floats[start*s.dim:(start+m)*s.dim], s.dim, scores[:m])
		for j, score := range scores[:m] {
			s.offer(top, start+j, score, accept)
		}
	}
}

func (s *Segment) scanCold(q []float32, top *topK, accept func(int) bool) {
	qcodes := make([]int8, s.dim)
	qscale := simd.Quantize(q, qcodes)
	var dots [scanBlockRows]int32
	for start := 0; start < s.n; start += scanBlockRows {
		m := min(scanBlockRows, s.n-start)
		simd.DotInt8Batch(qcodes, s.codes[start*s.dim:(start+m)*s.dim], s.dim, dots[:m])
		for j, dot := range dots[:m] {
			i := start + j
			s.offer(top, i, float32(dot)*qscale*s.scales[i], accept)
		}
	}
}

// offer pushes record i into top if it would rank, has a vector and is accepted; the
// cheap tests come first so that accept runs for few records.
func (s *Segment) offer(top *topK, i int, score float32, accept func(int) bool) {
	if !top.admits(score) || !s.hasVector(i) || (accept != nil && !accept(i)) {
		return
	}
	top.push(Hit{Index: i, Score: score})
}

// topK keeps the k best hits seen so far in a min-heap whose root is the worst of them.
// Hits arrive in ascending index order, so a newcomer that ties the root's score ranks
// below it and is not admitted.
type topK struct {
	k    int
	heap []Hit
}

// worse reports whether a ranks below b: lower score, or equal score and higher index.
func worse(a, b Hit) bool {
	return a.Score < b.Score || (a.Score == b.Score && a.Index > b.Index)
}

func (t *topK) admits(score float32) bool {
	if score != score { // NaN ranks nowhere
		return false
	}
	return len(t.heap) < t.k || score > t.heap[0].Score
}

func (t *topK) push(h Hit) {
	if len(t.heap) < t.k {
		t.heap = append(t.heap, h)
		for i := len(t.heap) - 1; i > 0; {
			p := (i - 1) / 2
			if !worse(t.heap[i], t.heap[p]) {
				break
			}
			t.heap[i], t.heap[p] = t.heap[p], t.heap[i]
			i = p
		}
		return
	}
	t.heap[0] = h
	for i := 0; ; {
		c := 2*i + 1
		if c >= len(t.heap) {
			break
		}
		if c+1 < len(t.heap) && worse(t.heap[c+1], t.heap[c]) {
			c++
		}
		if !worse(t.heap[c], t.heap[i]) {
			break
		}
		t.heap[i], t.heap[c] = t.heap[c], t.heap[i]
		i = c
	}
}

func (t *topK) sorted() []Hit {
	if len(t.heap) == 0 {
		return nil
	}
	slices.SortFunc(t.heap, func(a, b Hit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Index, b.Index)
	})
	return t.heap
}
