package engine

import (
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/engram-go/engram/engine/index"
)

// Slab chunk sizes: the first chunk holds slabFirstRows vectors and each next one twice as
// many, up to slabChunkRows (12 MiB at 768 dimensions); from there on every chunk holds
// slabChunkRows. A space with a handful of memories so costs kilobytes, not megabytes.
const (
	slabFirstRows  = 64
	slabChunkRows  = 4096
	slabGrowChunks = 6 // chunks 0..5 hold 64, 128, …, 2048 rows
	slabGrowRows   = slabFirstRows * (1<<slabGrowChunks - 1)
)

// chunkOf returns the chunk holding row r and r's index within it.
func chunkOf(r int) (chunk, offset int) {
	if r < slabGrowRows {
		chunk = bits.Len(uint(r/slabFirstRows+1)) - 1
		return chunk, r - slabFirstRows*(1<<chunk-1)
	}
	r -= slabGrowRows
	return slabGrowChunks + r/slabChunkRows, r % slabChunkRows
}

// chunkStart and chunkRows describe chunk c.
func chunkStart(c int) int {
	if c < slabGrowChunks {
		return slabFirstRows * (1<<c - 1)
	}
	return slabGrowRows + (c-slabGrowChunks)*slabChunkRows
}

func chunkRows(c int) int {
	if c < slabGrowChunks {
		return slabFirstRows << c
	}
	return slabChunkRows
}

// slab holds the hot tier's normalised vectors, row-major, in chunks. Chunks never move:
// growing adds a chunk and publishes a new chunk list through an atomic pointer, so readers
// (the indexes, scans) never lock and a writer never copies vectors. A row is written once,
// before its number is handed to anyone, and never rewritten while the state is open.
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
	first, _ := chunkOf(lo)
	last, _ := chunkOf(hi - 1)
	next := append([][]float32(nil), *s.chunks.Load()...)
	for len(next) <= last {
		next = append(next, nil)
	}
	for c := first; c <= last; c++ {
		if next[c] == nil {
			next[c] = make([]float32, chunkRows(c)*s.dim)
		}
	}
	s.chunks.Store(&next)
}

// has reports whether rows [lo, hi) are all backed by chunks.
func (s *slab) has(lo, hi int) bool {
	cur := *s.chunks.Load()
	first, _ := chunkOf(lo)
	last, _ := chunkOf(hi - 1)
	if last >= len(cur) {
		return false
	}
	for c := first; c <= last; c++ {
		if cur[c] == nil {
			return false
		}
	}
	return true
}

// row returns row's vector; the row must have been reserved.
func (s *slab) row(r uint32) []float32 {
	c, off := chunkOf(int(r))
	off *= s.dim
	return (*s.chunks.Load())[c][off : off+s.dim : off+s.dim]
}

// blocks calls fn for consecutive runs of at most max rows within [lo, hi), each run
// contiguous in memory, skipping chunks that were never reserved.
func (s *slab) blocks(lo, hi, max int, fn func(first int, vecs []float32)) {
	chunks := *s.chunks.Load()
	for lo < hi {
		c, off := chunkOf(lo)
		if c >= len(chunks) {
			return
		}
		n := min(hi-lo, chunkRows(c)-off, max)
		if chunks[c] != nil {
			fn(lo, chunks[c][off*s.dim:(off+n)*s.dim])
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
	for c, ch := range *s.chunks.Load() {
		if ch != nil {
			n += chunkRows(c)
		}
	}
	return n
}
