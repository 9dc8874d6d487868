package simd

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// The portable kernels. Several independent partial sums break the loop-carried
// dependency on one accumulator, which is what bounds a naive loop. Each iteration takes
// a fixed-size window of the inputs (an array pointer or a three-index slice), so the
// compiler checks bounds once per window rather than once per element; advancing an
// index instead of reslicing avoids the pointer-masking code reslicing costs per
// iteration. The shapes were chosen by measurement: more partial sums than these spill
// registers (amd64 has 15 usable for floats) and run slower.

func dotGeneric(a, b []float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	b = b[:len(a)]
	i := 0
	for ; i+16 <= len(a); i += 16 {
		x := (*[16]float32)(a[i:])
		y := (*[16]float32)(b[i:])
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
		s4 += x[4] * y[4]
		s5 += x[5] * y[5]
		s6 += x[6] * y[6]
		s7 += x[7] * y[7]
		s0 += x[8] * y[8]
		s1 += x[9] * y[9]
		s2 += x[10] * y[10]
		s3 += x[11] * y[11]
		s4 += x[12] * y[12]
		s5 += x[13] * y[13]
		s6 += x[14] * y[14]
		s7 += x[15] * y[15]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

func sumSquaresGeneric(a []float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+16 <= len(a); i += 16 {
		x := (*[16]float32)(a[i:])
		s0 += x[0] * x[0]
		s1 += x[1] * x[1]
		s2 += x[2] * x[2]
		s3 += x[3] * x[3]
		s4 += x[4] * x[4]
		s5 += x[5] * x[5]
		s6 += x[6] * x[6]
		s7 += x[7] * x[7]
		s0 += x[8] * x[8]
		s1 += x[9] * x[9]
		s2 += x[10] * x[10]
		s3 += x[11] * x[11]
		s4 += x[12] * x[12]
		s5 += x[13] * x[13]
		s6 += x[14] * x[14]
		s7 += x[15] * x[15]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * a[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

func normGeneric(a []float32) float32 {
	return sqrt32(sumSquaresGeneric(a))
}

// cosineGeneric makes one pass that accumulates a·b, a·a and b·b together, two
// partial sums each.
func cosineGeneric(a, b []float32) float32 {
	var d0, d1, x0, x1, y0, y1 float32
	b = b[:len(a)]
	i := 0
	for ; i+4 <= len(a); i += 4 {
		x := a[i : i+4 : i+4]
		y := b[i : i+4 : i+4]
		d0 += x[0] * y[0]
		d1 += x[1] * y[1]
		x0 += x[0] * x[0]
		x1 += x[1] * x[1]
		y0 += y[0] * y[0]
		y1 += y[1] * y[1]
		d0 += x[2] * y[2]
		d1 += x[3] * y[3]
		x0 += x[2] * x[2]
		x1 += x[3] * x[3]
		y0 += y[2] * y[2]
		y1 += y[3] * y[3]
	}
	for ; i < len(a); i++ {
		av, bv := a[i], b[i]
		d0 += av * bv
		x0 += av * av
		y0 += bv * bv
	}
	return cosineFromSums(d0+d1, x0+x1, y0+y1)
}

// cosineFromSums turns a·b, a·a and b·b into the cosine. The square root of the
// product is taken in float64 so that a·a*b·b cannot overflow float32.
func cosineFromSums(dot, aa, bb float32) float32 {
	if aa == 0 || bb == 0 {
		return 0
	}
	return float32(float64(dot) / math.Sqrt(float64(aa)*float64(bb)))
}

func sqrt32(v float32) float32 { return float32(math.Sqrt(float64(v))) }

func dotBatchGeneric(q, rows []float32, dim int, out []float32) {
	for i := range out {
		out[i] = dotGeneric(q, rows[i*dim:(i+1)*dim])
	}
}

func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	i := 0
	for ; i+8 <= len(x); i += 8 {
		xs := (*[8]float32)(x[i:])
		ys := (*[8]float32)(y[i:])
		ys[0] += alpha * xs[0]
		ys[1] += alpha * xs[1]
		ys[2] += alpha * xs[2]
		ys[3] += alpha * xs[3]
		ys[4] += alpha * xs[4]
		ys[5] += alpha * xs[5]
		ys[6] += alpha * xs[6]
		ys[7] += alpha * xs[7]
	}
	for ; i < len(x); i++ {
		y[i] += alpha * x[i]
	}
}

func scaleGeneric(alpha float32, x []float32) {
	i := 0
	for ; i+8 <= len(x); i += 8 {
		xs := (*[8]float32)(x[i:])
		xs[0] *= alpha
		xs[1] *= alpha
		xs[2] *= alpha
		xs[3] *= alpha
		xs[4] *= alpha
		xs[5] *= alpha
		xs[6] *= alpha
		xs[7] *= alpha
	}
	for ; i < len(x); i++ {
		x[i] *= alpha
	}
}

// dotInt8Generic sums in int32, wrapping on overflow exactly as the assembly kernels
// do. It reads eight codes per 64-bit load and takes them apart with shifts, which the
// compiler turns into far fewer instructions than eight separate byte loads.
func dotInt8Generic(a, b []int8) int32 {
	var s0, s1, s2, s3 int32
	b = b[:len(a)]
	ab, bb := int8sAsBytes(a), int8sAsBytes(b)
	i := 0
	for ; i+8 <= len(ab); i += 8 {
		x := binary.LittleEndian.Uint64(ab[i:])
		y := binary.LittleEndian.Uint64(bb[i:])
		s0 += int32(int8(x)) * int32(int8(y))
		s1 += int32(int8(x>>8)) * int32(int8(y>>8))
		s2 += int32(int8(x>>16)) * int32(int8(y>>16))
		s3 += int32(int8(x>>24)) * int32(int8(y>>24))
		s0 += int32(int8(x>>32)) * int32(int8(y>>32))
		s1 += int32(int8(x>>40)) * int32(int8(y>>40))
		s2 += int32(int8(x>>48)) * int32(int8(y>>48))
		s3 += int32(int8(x>>56)) * int32(int8(y>>56))
	}
	for ; i < len(a); i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// int8sAsBytes views the same memory as bytes; int8 and byte share size and alignment.
func int8sAsBytes(s []int8) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func dotInt8BatchGeneric(q, rows []int8, dim int, out []int32) {
	for i := range out {
		out[i] = dotInt8Generic(q, rows[i*dim:(i+1)*dim])
	}
}
