package engine

import (
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/engram-go/engram/engine/index"
	"github.com/engram-go/engram/internal/prefault"
	"github.com/engram-go/engram/simd"
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

// slab holds the hot tier's normalised vectors, row-major, in chunks, and beside each
// vector its int8 code (simd.Quantize, one scale per row): a quarter of the bytes, for the
// scans and the index construction that rank approximately first (see topKCoded and the
// HNSW's int8 construction). Chunks never move: growing adds a chunk and publishes a new
// chunk list through an atomic pointer, so readers (the indexes, scans) never lock and a
// writer never copies vectors. A row is written, then encoded, before its number is handed
// to anyone (or, on promotion, while no index holds it).
type slab struct {
	dim    int
	chunks atomic.Pointer[[]*slabChunk]
	growMu sync.Mutex
	// faulted: rows below it are reserved and their pages backed, or being backed, by
	// prefault.
	faulted atomic.Int64
	// shared lets concurrent unfiltered code scans share their passes (sharedscan.go).
	shared sharedScans
}

// slabChunk is one chunk's rows: vectors, their codes and the codes' scales.
type slabChunk struct {
	vecs   []float32
	codes  []int8
	scales []float32
}

func newSlab(dim int) *slab {
	s := &slab{dim: dim}
	s.chunks.Store(new([]*slabChunk))
	return s
}

// reserve makes room for rows [lo, hi). Allocation happens here, under growMu only, so
// the space's exclusive lock is never held while memory is allocated (prefault backs the
// pages of a growing space before their rows are written, too). Chunks outside reserved
// ranges stay nil: rows of warm and cold memories cost no slab memory.
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
	next := append([]*slabChunk(nil), *s.chunks.Load()...)
	for len(next) <= last {
		next = append(next, nil)
	}
	for c := first; c <= last; c++ {
		if next[c] == nil {
			n := chunkRows(c)
			next[c] = &slabChunk{
				vecs:   make([]float32, n*s.dim),
				codes:  make([]int8, n*s.dim),
				scales: make([]float32, n),
			}
		}
	}
	s.chunks.Store(&next)
}

// Prefaulting. A new chunk's memory comes from the operating system unbacked, and without
// prefault the first write to each of its pages (about one per row at 768 dimensions)
// would trap into the kernel while the writer holds the space's exclusive lock. A space
// past slabPrefaultFrom rows instead has the rows just ahead of its next one backed in one
// system call per chunk run (package prefault), by the remember that finds them running
// short, outside every lock but growMu. At most an eighth of the space's rows, and never
// more than 2·slabPrefaultLead rows, are backed ahead, so a space that stops growing keeps
// little memory it does not use, and a small space none.
const (
	slabPrefaultFrom = slabGrowRows + slabChunkRows // 8,128 rows
	slabPrefaultLead = 1024
)

// prefault backs the pages of the rows ahead of next (the first row no remember has taken
// yet) when fewer than a sixteenth of the space's rows, at most slabPrefaultLead, are
// backed ahead of it. One caller does the work; others find it claimed and go on.
func (s *slab) prefault(next int) {
	if !prefault.Supported || next < slabPrefaultFrom {
		return
	}
	lead := min(next/16, slabPrefaultLead)
	done := int(s.faulted.Load())
	if next+lead <= done {
		return
	}
	from, to := max(done, next), next+2*lead
	if !s.faulted.CompareAndSwap(int64(done), int64(to)) {
		return
	}
	s.reserve(from, to)
	s.chunkRuns(from, to, to-from, func(_ int, ch *slabChunk, off, n int) {
		prefault.Populate(ch.vecs[off*s.dim : (off+n)*s.dim])
		prefault.Populate(ch.codes[off*s.dim : (off+n)*s.dim])
	})
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
	return (*s.chunks.Load())[c].vecs[off : off+s.dim : off+s.dim]
}

// encode quantises row's vector into its code; whoever writes a row's vector calls it
// before handing the row out.
func (s *slab) encode(r uint32) {
	c, off := chunkOf(int(r))
	ch := (*s.chunks.Load())[c]
	ch.scales[off] = simd.Quantize(ch.vecs[off*s.dim:(off+1)*s.dim], ch.codes[off*s.dim:(off+1)*s.dim])
}

// put writes row's vector and its code (simd.Quantize of vec, with its scale); the row must
// have been reserved.
func (s *slab) put(r uint32, vec []float32, code []int8, scale float32) {
	c, off := chunkOf(int(r))
	ch := (*s.chunks.Load())[c]
	copy(ch.vecs[off*s.dim:(off+1)*s.dim], vec)
	copy(ch.codes[off*s.dim:(off+1)*s.dim], code)
	ch.scales[off] = scale
}

// code returns row's code and its scale; the row must have been reserved.
func (s *slab) code(r uint32) ([]int8, float32) {
	c, off := chunkOf(int(r))
	ch := (*s.chunks.Load())[c]
	return ch.codes[off*s.dim : (off+1)*s.dim : (off+1)*s.dim], ch.scales[off]
}

// blocks calls fn for consecutive runs of at most max rows within [lo, hi), each run
// contiguous in memory, skipping chunks that were never reserved.
func (s *slab) blocks(lo, hi, max int, fn func(first int, vecs []float32)) {
	s.chunkRuns(lo, hi, max, func(first int, ch *slabChunk, off, n int) {
		fn(first, ch.vecs[off*s.dim:(off+n)*s.dim])
	})
}

// chunkRuns calls fn for consecutive runs of at most max rows within [lo, hi): rows
// [off, off+n) of chunk ch, the first of them being row first. Chunks that were never
// reserved are skipped.
func (s *slab) chunkRuns(lo, hi, max int, fn func(first int, ch *slabChunk, off, n int)) {
	chunks := *s.chunks.Load()
	for lo < hi {
		c, off := chunkOf(lo)
		if c >= len(chunks) {
			return
		}
		n := min(hi-lo, chunkRows(c)-off, max)
		if chunks[c] != nil {
			fn(lo, chunks[c], off, n)
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
	index.SortScored(out)
	if len(out) > k {
		out = out[:k]
	}
	return out
}

// codedScanRows is the smallest range topKCoded ranks by codes first; below it the exact
// scan costs less than the codes' scan and the rescoring together. At 768 dimensions the
// codes win from about 512 rows (BenchmarkSlabTail: 22 against 26 µs at 512 rows, 61
// against 224 µs at 2,048, 169 against 490 µs at 4,096).
const codedScanRows = 512

// topKCoded is topK that ranks rows [lo, hi) by their codes first (rankCoded) once there
// are codedScanRows of them.
func (s *slab) topKCoded(q []float32, lo, hi, k int, accept func(uint32) bool) []index.Scored {
	if hi-lo < codedScanRows || k <= 0 {
		return s.topK(q, lo, hi, k, accept)
	}
	return s.rankCoded(q, lo, hi, k, accept)
}

// rankCoded is topK that ranks rows [lo, hi) by their codes, keeps the best several times
// k accepted ones and rescores those exactly: a quarter of the bytes of topK's scan, with
// the exact top k unless the codes' error lifts a row that is not among the exact best
// past every one of those several times k (the scores are exact either way).
func (s *slab) rankCoded(q []float32, lo, hi, k int, accept func(uint32) bool) []index.Scored {
	qc := make([]int8, s.dim)
	qs := simd.Quantize(q, qc)
	// One scan across the chunks: accept reads the memory behind a row, a likely cache
	// miss, so it is asked only about rows that beat the best of every chunk so far.
	scan := index.NewInt8Scan(qc, qs, max(4*k, k+32))
	if accept == nil {
		s.scanCodes(scan, lo, hi) // in a pass shared with concurrent scans
	} else {
		s.chunkRuns(lo, hi, slabChunkRows, func(first int, ch *slabChunk, off, n int) {
			scan.Scan(ch.codes[off*s.dim:(off+n)*s.dim], ch.scales[off:off+n], n, uint32(first), accept)
		})
	}
	cands := scan.Sorted()
	for i := range cands {
		cands[i].Score = simd.Dot(q, s.row(cands[i].Row))
	}
	index.SortScored(cands)
	return cands[:min(len(cands), k)]
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
