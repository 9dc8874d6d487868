package engine

import (
	"sync"
	"sync/atomic"

	"github.com/engram-go/engram/engine/index"
)

// slabChunkRows is the number of vectors per slab chunk (12 MiB at 768 dimensions).
const slabChunkRows = 4096

// slab holds the hot tier's normalised vectors, row-major, in fixed-size chunks. Chunks
// never move: growing appends a chunk and publishes a new chunk list through an atomic
// pointer, so readers (the indexes, scans) never lock and a writer never copies vectors.
// A row is written once, before its number is handed to anyone, and never rewritten while
// the state is open.
type slab struct {
	dim    int
	chunks atomic.Pointer[[][]float32]
	growMu sync.Mutex
}

func newSlab(dim int) *slab {
	s := &slab{dim: dim}
	s.chunks.Store(new([][]float32))
	return s
}

// reserve makes room for rows [lo, hi). Allocation happens here, under growMu only, so
// the space's exclusive lock is never held while memory is allocated and cleared. Chunks
// outside reserved ranges stay nil: rows of warm and cold memories cost no slab memory.
func (s *slab) reserve(lo, hi int) {
	if lo >= hi || s.has(lo, hi) {
		return
	}
	s.growMu.Lock()
	defer s.growMu.Unlock()
	if s.has(lo, hi) {
		return
	}
	cur := *s.chunks.Load()
	next := append([][]float32(nil), cur...)
	for len(next)*slabChunkRows < hi {
		next = append(next, nil)
	}
	for c := lo / slabChunkRows; c <= (hi-1)/slabChunkRows; c++ {
		if next[c] == nil {
			next[c] = make([]float32, slabChunkRows*s.dim)
		}
	}
	s.chunks.Store(&next)
}

// has reports whether rows [lo, hi) are all backed by chunks.
func (s *slab) has(lo, hi int) bool {
	cur := *s.chunks.Load()
	if hi > len(cur)*slabChunkRows {
		return false
	}
	for c := lo / slabChunkRows; c <= (hi-1)/slabChunkRows; c++ {
		if cur[c] == nil {
			return false
		}
	}
	return true
}

// row returns row's vector; the row must have been reserved.
func (s *slab) row(r uint32) []float32 {
	c := (*s.chunks.Load())[r/slabChunkRows]
	off := int(r%slabChunkRows) * s.dim
	return c[off : off+s.dim : off+s.dim]
}

// blocks calls fn for consecutive runs of at most max rows within [lo, hi), each run
// contiguous in memory, skipping chunks that were never reserved.
func (s *slab) blocks(lo, hi, max int, fn func(first int, vecs []float32)) {
	chunks := *s.chunks.Load()
	hi = min(hi, len(chunks)*slabChunkRows)
	for lo < hi {
		c := chunks[lo/slabChunkRows]
		inChunk := lo % slabChunkRows
		n := min(hi-lo, slabChunkRows-inChunk, max)
		if c != nil {
			fn(lo, c[inChunk*s.dim:(inChunk+n)*s.dim])
		}
		lo += n
	}
}

// topK scores rows [lo, hi) against q exactly and keeps the best k accepted ones.
func (s *slab) topK(q []float32, lo, hi, k int, accept func(uint32) bool) []index.Scored {
	var out []index.Scored
	s.blocks(lo, hi, slabChunkRows, func(first int, vecs []float32) {
		var acc func(uint32) bool
		if accept != nil {
			acc = func(r uint32) bool { return accept(r + uint32(first)) }
		}
		for _, h := range index.TopK(q, vecs, s.dim, len(vecs)/s.dim, k, acc, nil) {
			h.Row += uint32(first)
			out = append(out, h)
		}
	})
	sortScored(out)
	if len(out) > k {
		out = out[:k]
	}
	return out
}

// allocatedRows is the number of rows backed by chunks.
func (s *slab) allocatedRows() int {
	n := 0
	for _, c := range *s.chunks.Load() {
		if c != nil {
			n += slabChunkRows
		}
	}
	return n
}
