package simd

import (
	"math/rand/v2"
	"testing"
)

// Benchmarks run every available path as a sub-benchmark named after it. Where a
// generic figure exists, faster paths also report "x-generic", their speed-up over it.

const (
	benchDim  = 768
	benchRows = 100_000 // 100,000 × 768 float32 = 307 MB, far beyond any cache
)

// nsPerOp is the mean time of one iteration of a finished b.Loop benchmark.
func nsPerOp(b *testing.B) float64 {
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

// benchPaths runs fn once per available path; after the generic run it reports every
// other path's speed-up over generic.
func benchPaths(b *testing.B, fn func(b *testing.B, k kernels)) {
	var ks []kernels
	for _, p := range Available() {
		k, _ := kernelsFor(p)
		ks = append(ks, k)
	}
	benchKernels(b, ks, fn)
}

func benchKernels(b *testing.B, ks []kernels, fn func(b *testing.B, k kernels)) {
	var genericNs float64
	for _, k := range ks {
		b.Run(k.path, func(b *testing.B) {
			fn(b, k)
			switch {
			case k.path == pathGeneric:
				genericNs = nsPerOp(b)
			case genericNs > 0:
				b.ReportMetric(genericNs/nsPerOp(b), "x-generic")
			}
		})
	}
}

// fillSlab fills s with pseudo-random values in [-1, 1) cheaply enough for 300 MB:
// one random block, then doubling copies of it.
func fillSlab(s []float32) {
	r := rand.New(rand.NewPCG(42, 42))
	block := min(len(s), 1<<16+3) // an odd length so rows do not repeat in step
	for i := range block {
		s[i] = r.Float32()*2 - 1
	}
	for n := block; n < len(s); n *= 2 {
		copy(s[n:], s[:n])
	}
}

func BenchmarkCosine768(b *testing.B) {
	r := newRand(1)
	x, y := randFloats(r, benchDim, 0), randFloats(r, benchDim, 0)
	benchPaths(b, func(b *testing.B, k kernels) {
		for b.Loop() {
			k.cosine(x, y)
		}
	})
}

func BenchmarkDot768(b *testing.B) {
	r := newRand(2)
	x, y := randFloats(r, benchDim, 0), randFloats(r, benchDim, 0)
	benchPaths(b, func(b *testing.B, k kernels) {
		for b.Loop() {
			k.dot(x, y)
		}
	})
}

func BenchmarkAxpy768(b *testing.B) {
	r := newRand(3)
	x, y := randFloats(r, benchDim, 0), randFloats(r, benchDim, 0)
	benchPaths(b, func(b *testing.B, k kernels) {
		for b.Loop() {
			k.axpy(1e-9, x, y)
		}
	})
}

func BenchmarkDotInt8_768(b *testing.B) {
	r := newRand(4)
	x, y := randInt8s(r, benchDim, 0), randInt8s(r, benchDim, 0)
	// testKernels adds the int8 variants a CPU without VNNI would run.
	benchKernels(b, testKernels(b), func(b *testing.B, k kernels) {
		for b.Loop() {
			k.dotInt8(x, y)
		}
	})
}

// BenchmarkQuantize768 is Quantize's work on one 768-d vector (maxAbs, then the codes),
// done on every remember.
func BenchmarkQuantize768(b *testing.B) {
	v, out := randFloats(newRand(5), benchDim, 0), make([]int8, benchDim)
	benchPaths(b, func(b *testing.B, k kernels) {
		for b.Loop() {
			k.quantize(v, 127/k.maxAbs(v), out)
		}
	})
}

// BenchmarkDotBatch1k scans 1,000 rows (3 MB), which stay in cache between
// iterations: it measures the kernel's arithmetic rather than memory bandwidth.
func BenchmarkDotBatch1k(b *testing.B) {
	const rows = 1000
	slab := make([]float32, rows*benchDim)
	fillSlab(slab)
	q, out := randFloats(newRand(5), benchDim, 0), make([]float32, rows)
	benchPaths(b, func(b *testing.B, k kernels) {
		b.SetBytes(int64(len(slab)) * 4)
		for b.Loop() {
			k.dotBatch(q, slab, benchDim, out)
		}
		b.ReportMetric(nsPerOp(b)/rows, "ns/row")
	})
}

// BenchmarkDotBatch100k scores one query against 100,000 contiguous rows. Its MB/s is
// comparable with BenchmarkCopy100k, the memory-bandwidth ceiling.
func BenchmarkDotBatch100k(b *testing.B) {
	slab := make([]float32, benchRows*benchDim)
	fillSlab(slab)
	q, out := randFloats(newRand(6), benchDim, 0), make([]float32, benchRows)
	benchPaths(b, func(b *testing.B, k kernels) {
		b.SetBytes(int64(len(slab)) * 4)
		for b.Loop() {
			k.dotBatch(q, slab, benchDim, out)
		}
		b.ReportMetric(nsPerOp(b)/benchRows, "ns/row")
	})
}

// BenchmarkCopy100k copies as many bytes as BenchmarkDotBatch100k reads. A copy also
// writes every byte, so it moves at least twice the memory traffic per reported byte;
// it is the practical ceiling a streaming scan is judged against.
func BenchmarkCopy100k(b *testing.B) {
	src := make([]float32, benchRows*benchDim)
	fillSlab(src)
	dst := make([]float32, len(src))
	copy(dst, src) // fault the destination pages in before timing
	b.SetBytes(int64(len(src)) * 4)
	for b.Loop() {
		copy(dst, src)
	}
}
