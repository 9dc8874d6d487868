//go:build amd64

package simd

// AVX-512 kernels (avx512_amd64.s). They read and write exactly the elements their
// slices describe: tails shorter than a vector use masked loads and stores, which do not
// touch memory in masked-off lanes.

func avx512Kernels(vnni bool) kernels {
	dotInt8 := dotInt8AVX512
	if vnni {
		dotInt8 = dotInt8VNNI
	}
	return kernels{
		path:   pathAVX512,
		dot:    dotAVX512,
		norm:   func(a []float32) float32 { return sqrt32(dotAVX512(a, a)) },
		cosine: cosineAVX512,
		dotBatch: func(q, rows []float32, dim int, out []float32) {
			scanInChunks(dotBatchAVX512, q, rows, dim, out)
		},
		axpy:     axpyAVX512,
		scale:    scaleVek,
		maxAbs:   maxAbsAVX512,
		quantize: quantizeAVX512,
		dotInt8:  dotInt8,
		dotInt8Batch: func(q, rows []int8, dim int, out []int32) {
			dotInt8Rows(dotInt8, q, rows, dim, out)
		},
	}
}

func cosineAVX512(a, b []float32) float32 {
	return cosineFromSums(cosineSumsAVX512(a, b))
}

// dotAVX512 requires len(b) >= len(a).
//
//go:noescape
func dotAVX512(a, b []float32) float32

// cosineSumsAVX512 returns a·b, a·a and b·b in one pass; it requires len(b) >= len(a).
//
//go:noescape
func cosineSumsAVX512(a, b []float32) (dot, aa, bb float32)

// dotBatchAVX512 requires len(q) == dim > 0 and len(rows) >= len(out)*dim.
//
//go:noescape
func dotBatchAVX512(q, rows []float32, dim int, out []float32)

// axpyAVX512 requires len(y) >= len(x).
//
//go:noescape
func axpyAVX512(alpha float32, x, y []float32)

// dotInt8AVX512 widens both vectors to int16 and multiplies pairs with VPMADDWD; it
// needs only AVX-512BW. It requires len(b) >= len(a).
//
//go:noescape
func dotInt8AVX512(a, b []int8) int32

// dotInt8VNNI uses VPDPBUSD, which multiplies unsigned by signed bytes: it computes
// (a+128)·b - 128·Σb, exact in wrapping int32 arithmetic. It requires AVX-512 VNNI and
// len(b) >= len(a).
//
//go:noescape
func dotInt8VNNI(a, b []int8) int32

// maxAbsAVX512 returns max |v[i]| (0 for an empty v); v must hold no NaN.
//
//go:noescape
func maxAbsAVX512(v []float32) float32

// quantizeAVX512 is quantizeGeneric: the same float32 operations on 16 lanes at a time,
// so the codes are identical. It requires len(out) >= len(v).
//
//go:noescape
func quantizeAVX512(v []float32, inv float32, out []int8)
