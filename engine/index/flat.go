package index

import "github.com/engram-go/engram/simd"

// flatBlockRows is how many rows one simd.DotBatch call scores: 1024 rows of 768 float32
// are 3 MiB, about what a core's share of L2/L3 holds, and the score buffer stays at 4 KiB.
const flatBlockRows = 1024

// TopK returns the k rows of slab[0:rows*dim] most similar to query (dot product), best
// first, ties broken by lower row. Rows for which accept returns false are skipped; a nil
// accept takes every row. accept is only asked about rows that would enter the current
// top k, so an expensive filter runs far fewer than rows times.
//
// scratch is an optional buffer for block scores; when it is shorter than one block a
// buffer is allocated. TopK holds no lock: the caller keeps slab stable for the call.
func TopK(query []float32, slab []float32, dim int, rows int, k int, accept func(row uint32) bool, scratch []float32) []Scored {
	if k <= 0 || rows <= 0 || dim <= 0 || len(query) != dim {
		return nil
	}
	rows = min(rows, len(slab)/dim)
	if len(scratch) < flatBlockRows {
		scratch = make([]float32, min(rows, flatBlockRows))
	}
	best := newTopK(min(k, rows))
	for start := 0; start < rows; start += flatBlockRows {
		n := min(flatBlockRows, rows-start)
		scores := scratch[:n]
		simd.DotBatch(query, slab[start*dim:(start+n)*dim], dim, scores)
		for i, score := range scores {
			row := uint32(start + i)
			if score != score { // NaN never ranks
				continue
			}
			if !best.admits(row, score) || accept != nil && !accept(row) {
				continue
			}
			best.push(Scored{Row: row, Score: score})
		}
	}
	return best.sorted()
}

// TopKRows is TopK over an explicit, possibly sparse, list of rows (for instance the
// candidates another index proposed). Rows outside the slab are ignored; a row listed twice
// is scored once.
func TopKRows(query []float32, slab []float32, dim int, rowList []uint32, k int, accept func(uint32) bool) []Scored {
	if k <= 0 || len(rowList) == 0 || dim <= 0 || len(query) != dim {
		return nil
	}
	rows := len(slab) / dim
	best := newTopK(min(k, len(rowList)))
	for _, row := range rowList {
		if int(row) >= rows {
			continue
		}
		off := int(row) * dim
		score := simd.Dot(query, slab[off:off+dim])
		// Only rows that make the cut are checked for repeats, an O(k) scan that runs
		// O(k log n) times for rows in random order.
		if score != score || !best.admits(row, score) || best.holds(row) || accept != nil && !accept(row) {
			continue
		}
		best.push(Scored{Row: row, Score: score})
	}
	return best.sorted()
}

// Int8Scan is TopK over int8 codes (simd.Quantize) kept in several runs, such as the
// chunks of a slab: each run is codes[0:rows*dim] with one scale per row, scored against
// the query's code qc with its scale qs. One set of the k best is kept across the runs, so
// a row of a later run is compared with, and accept asked about, only if it beats the best
// of every run scanned before it, not only of its own. Scores are the codes' dot products
// scaled back, approximations of the vectors' own within a quantisation step or so per
// component: callers that need exact scores keep more than k and rescore those with the
// vectors. It holds no lock: the caller keeps the codes stable for each Scan.
type Int8Scan struct {
	qc      []int8
	qs      float32
	best    topK
	scratch []int32
}

// NewInt8Scan starts a scan for the k best rows for the query code qc of scale qs.
func NewInt8Scan(qc []int8, qs float32, k int) *Int8Scan {
	return &Int8Scan{qc: qc, qs: qs, best: newTopK(max(k, 0))}
}

// Scan scores one run of rows numbered from first; accept (nil takes every row) is asked
// about the row numbers so offset.
func (s *Int8Scan) Scan(codes []int8, scales []float32, rows int, first uint32, accept func(row uint32) bool) {
	dim := len(s.qc)
	if s.best.k <= 0 || rows <= 0 || dim == 0 {
		return
	}
	rows = min(rows, len(codes)/dim, len(scales))
	if len(s.scratch) < min(rows, flatBlockRows) {
		s.scratch = make([]int32, min(rows, flatBlockRows))
	}
	for start := 0; start < rows; start += flatBlockRows {
		n := min(flatBlockRows, rows-start)
		dots := s.scratch[:n]
		simd.DotInt8Batch(s.qc, codes[start*dim:(start+n)*dim], dim, dots)
		for i, d := range dots {
			row := first + uint32(start+i)
			score := float32(d) * s.qs * scales[start+i]
			if !s.best.admits(row, score) || accept != nil && !accept(row) {
				continue
			}
			s.best.push(Scored{Row: row, Score: score})
		}
	}
}

// Sorted returns the best rows scanned, best first, ties broken by lower row.
func (s *Int8Scan) Sorted() []Scored { return s.best.sorted() }

// Part starts a scan for the same query and k, to scan other rows than s on another
// goroutine and be merged into s (Merge) afterwards.
func (s *Int8Scan) Part() *Int8Scan { return NewInt8Scan(s.qc, s.qs, s.best.k) }

// Merge adds the rows part kept to s, as if s had scanned them: part scanned rows s did
// not, with no accept, so the k best of both are the k best of every row either scanned.
// part is consumed.
func (s *Int8Scan) Merge(part *Int8Scan) {
	for _, x := range part.best.heap {
		if s.best.admits(x.Row, x.Score) {
			s.best.push(x)
		}
	}
	part.best.heap = nil
}
