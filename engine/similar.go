package engine

import (
	"github.com/engram-go/engram/engine/index"
)

// similar returns the k rows among [0, rows) most similar to q: the HNSW index for the rows
// it holds plus an exact scan of the rows it does not hold yet, or an exact scan of
// everything while the space is small. accept may be nil; when it is not, the caller holds
// st.mu (accept reads the live memories). It takes no lock of its own: the index and the slab
// guard themselves, and the watermark is read under l.mu.
func (st *state) similar(q []float32, rows, k int, accept func(uint32) bool) []index.Scored {
	if !st.indexAnswers(rows) {
		return st.slab.topKCoded(q, 0, rows, k, accept)
	}
	indexed := min(int(st.link.watermark()), rows)
	approx := st.hnsw.Search(q, k, max(64, 2*k), accept)
	if indexed >= rows {
		return approx
	}
	merged := append(approx, st.slab.topKCoded(q, indexed, rows, k, accept)...)
	index.SortScored(merged)
	if len(merged) > k {
		merged = merged[:k]
	}
	return merged
}

// similarMany runs similar for several queries (nil entries get no candidates) without
// st.mu. While the space is scanned exactly, it makes one pass over the slab for all of
// them, block by block, so each block is read from memory once and scored from cache for
// every query: memory traffic falls by the number of queries.
func (st *state) similarMany(queries [][]float32, rows, k int) [][]index.Scored {
	out := make([][]index.Scored, len(queries))
	if st.indexAnswers(rows) {
		for i, q := range queries {
			if q != nil {
				out[i] = st.similar(q, rows, k, nil)
			}
		}
		return out
	}
	const block = 256 // rows per block: 768 KiB at 768 dimensions, within L2
	st.slab.blocks(0, rows, block, func(lo int, part []float32) {
		for i, q := range queries {
			if q == nil {
				continue
			}
			for _, h := range index.TopK(q, part, st.dim, len(part)/st.dim, k, nil, nil) {
				h.Row += uint32(lo)
				out[i] = append(out[i], h)
			}
			if len(out[i]) > 4*k {
				index.SortScored(out[i])
				out[i] = out[i][:k]
			}
		}
	})
	for i := range out {
		index.SortScored(out[i])
		if len(out[i]) > k {
			out[i] = out[i][:k]
		}
	}
	return out
}

// indexAnswers reports whether similar answers a search over [0, rows) from the HNSW
// index (approximately) rather than by an exact scan.
func (st *state) indexAnswers(rows int) bool {
	return min(int(st.link.watermark()), rows) >= hnswMinRows && st.hnsw.Len() >= hnswMinRows
}

// vectorAt returns row's normalised vector: the slab's own row while the memory is hot,
// else buf filled from its warm or cold segment. Caller holds st.mu.
func (st *state) vectorAt(row uint32, buf []float32) []float32 {
	lm := st.byRow[row]
	if lm.seg == nil {
		return st.vectorOf(row)
	}
	lm.seg.s.Vector(int(lm.idx), buf)
	return buf
}
