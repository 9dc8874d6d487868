package graph

import "github.com/engram-go/engram/simd"

// vectorMinBlock is the fanout block length from which the offers are computed by the
// dispatched vector kernel. The kernel carries a fixed cost per call (dispatch,
// prologue, tail) that a scalar loop over a short block does not; BenchmarkScaleInto
// measures the crossover.
const vectorMinBlock = 24

// scaleInto sets dst[i] = alpha × w[i] for i < len(dst). Both paths round each product
// once, so results do not depend on the path taken (nor on the CPU).
func scaleInto(dst, w []float32, alpha float32) {
	if len(dst) >= vectorMinBlock {
		scaleVector(dst, w, alpha)
		return
	}
	scaleScalar(dst, w, alpha)
}

func scaleScalar(dst, w []float32, alpha float32) {
	for i, x := range w[:len(dst)] {
		dst[i] = alpha * x
	}
}

func scaleVector(dst, w []float32, alpha float32) {
	copy(dst, w[:len(dst)])
	simd.Scale(alpha, dst)
}
