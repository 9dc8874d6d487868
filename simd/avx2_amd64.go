//go:build amd64

package simd

import "github.com/viterin/vek/vek32"

// AVX2 kernels: github.com/viterin/vek where it has the kernel (dot, norm, cosine,
// scale), Go assembly (avx2_amd64.s) for the batch scan, axpy and int8 dot. vek panics
// on empty slices and leaves 0/0 in a zero-norm cosine, so its calls are wrapped.

func avx2Kernels() kernels {
	return kernels{
		path:   pathAVX2,
		dot:    dotVek,
		norm:   normVek,
		cosine: cosineVek,
		dotBatch: func(q, rows []float32, dim int, out []float32) {
			scanInChunks(dotBatchAVX2, q, rows, dim, out)
		},
		axpy:    axpyAVX2,
		scale:   scaleVek,
		dotInt8: dotInt8AVX2,
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

func cosineVek(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	return cosineFromSums(vek32.Dot(a, b), vek32.Dot(a, a), vek32.Dot(b, b))
}

func scaleVek(alpha float32, x []float32) {
	if len(x) == 0 {
		return
	}
	vek32.MulNumber_Inplace(x, alpha)
}

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
