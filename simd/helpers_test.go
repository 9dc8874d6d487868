package simd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// testKernels returns every kernel table this CPU can run, generic included, plus any
// internal variants (see variants_*_test.go), so each test covers them all.
func testKernels(tb testing.TB) []kernels {
	tb.Helper()
	var ks []kernels
	for _, p := range Available() {
		k, ok := kernelsFor(p)
		if !ok {
			tb.Fatalf("kernelsFor(%q) failed although Available lists it", p)
		}
		ks = append(ks, k)
	}
	return append(ks, kernelVariants()...)
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// randFloats returns n values in [-1, 1). off > 0 shifts the slice start by off
// elements so that the kernels see a pointer that is not vector-aligned.
func randFloats(r *rand.Rand, n, off int) []float32 {
	buf := make([]float32, n+off)
	for i := range buf {
		buf[i] = r.Float32()*2 - 1
	}
	return buf[off:]
}

func randInt8s(r *rand.Rand, n, off int) []int8 {
	buf := make([]int8, n+off)
	for i := range buf {
		buf[i] = int8(r.IntN(256) - 128)
	}
	return buf[off:]
}

// dotReference returns the dot product in float64 and the sum of |a[i]*b[i]|, the
// scale against which float32 rounding differences are measured.
func dotReference(a, b []float32) (dot, sumAbs float64) {
	for i := range a {
		p := float64(a[i]) * float64(b[i])
		dot += p
		sumAbs += math.Abs(p)
	}
	return dot, sumAbs
}

// dotTolerance is the allowed difference between two float32 dot products whose terms
// sum to sumAbs in absolute value: each path rounds in a different order.
func dotTolerance(sumAbs float64) float64 { return 1e-4*sumAbs + 1e-30 }

func closeTo(got, want float32, tol float64) bool {
	if math.IsNaN(float64(got)) || math.IsNaN(float64(want)) {
		return false
	}
	return math.Abs(float64(got)-float64(want)) <= tol
}

// edgeLengths are the vector lengths every kernel is tested at: empty, below one
// vector, around the 8- and 16-lane boundaries, and typical embedding sizes.
var edgeLengths = []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 767, 768, 1536}
