//go:build amd64

package simd

import "github.com/viterin/vek/vek32"

// AVX2 kernels: github.com/viterin/vek where it has the kernel (dot, norm, scale),
// Go assembly (avx2_amd64.s) for the batch scan, axpy, int8 dot and cosine. vek's
// cosine is not used: it divides by sqrt(a·a * b·b) computed in float32, which yields
// NaN for a zero vector and overflows to a cosine of 0 once |a|·|b| exceeds about
// 1.8e19; cosineSumsAVX2 returns the three sums for cosineFromSums instead. vek panics
// on empty slices, so its calls are wrapped.

func avx2Kernels() kernels {
	return kernels{
		path:   pathAVX2,
		dot:    dotVek,
		norm:   normVek,
		cosine: cosineAVX2,
		dotBatch: func(q, rows []float32, dim int, out []float32) {
			scanInChunks(dotBatchAVX2, q, rows, dim, out)
		},
		axpy:     axpyAVX2,
		scale:    scaleVek,
		maxAbs:   maxAbsGeneric,
		quantize: quantizeGeneric,
		dotInt8:  dotInt8AVX2,
		dotInt8Batch: func(q, rows []int8, dim int, out []int32) {
			dotInt8Rows(dotInt8AVX2, q, rows, dim, out)
		},
	}
}

func dotVek(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	return vek32.Dot(a, b)
}

func normVek(a []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	return vek32.Norm(a)
}

func cosineAVX2(a, b []float32) float32 {
	return cosineFromSums(cosineSumsAVX2(a, b))
}

func scaleVek(alpha float32, x []float32) {
	if len(x) == 0 {
		return
	}
	vek32.MulNumber_Inplace(x, alpha)
}

// cosineSumsAVX2 returns a·b, a·a and b·b in one pass; it requires len(b) >= len(a).
//
//go:noescape
func cosineSumsAVX2(a, b []float32) (dot, aa, bb float32)

// dotBatchAVX2 requires len(q) == dim > 0 and len(rows) >= len(out)*dim.
//
//go:noescape
func dotBatchAVX2(q, rows []float32, dim int, out []float32)

// axpyAVX2 requires len(y) >= len(x).
//
//go:noescape
func axpyAVX2(alpha float32, x, y []float32)

// dotInt8AVX2 widens to int16 and multiplies pairs with VPMADDWD; it requires
// len(b) >= len(a).
//
//go:noescape
func dotInt8AVX2(a, b []int8) int32
