package simd

// Path names, from the portable one to the widest.
const (
	pathGeneric = "generic"
	pathAVX2    = "avx2"
	pathAVX512  = "avx512"
)

// kernels is one complete set of implementations. Callers guarantee the preconditions
// the exported functions check: equal lengths for pairs, len(q) == dim > 0 and
// len(rows) >= len(out)*dim for the batch kernels.
type kernels struct {
	path         string
	dot          func(a, b []float32) float32
	norm         func(a []float32) float32
	cosine       func(a, b []float32) float32
	dotBatch     func(q, rows []float32, dim int, out []float32)
	axpy         func(alpha float32, x, y []float32)
	scale        func(alpha float32, x []float32)
	maxAbs       func(v []float32) float32
	quantize     func(v []float32, inv float32, out []int8)
	dotInt8      func(a, b []int8) int32
	dotInt8Batch func(q, rows []int8, dim int, out []int32)
}

// genericKernels returns the portable table, present in every build.
func genericKernels() kernels {
	return kernels{
		path:         pathGeneric,
		dot:          dotGeneric,
		norm:         normGeneric,
		cosine:       cosineGeneric,
		dotBatch:     dotBatchGeneric,
		axpy:         axpyGeneric,
		scale:        scaleGeneric,
		maxAbs:       maxAbsGeneric,
		quantize:     quantizeGeneric,
		dotInt8:      dotInt8Generic,
		dotInt8Batch: dotInt8BatchGeneric,
	}
}
