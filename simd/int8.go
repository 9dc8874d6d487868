package simd

import "math"

// DotInt8 returns the exact dot product of a and b, summed in int32. Each product is at
// most 128·128 = 2^14, so the sum cannot overflow for up to 131,071 elements; from
// 131,072 on it can, and then wraps modulo 2^32 identically on every path. It panics if
// len(a) != len(b).
func DotInt8(a, b []int8) int32 {
	if len(a) != len(b) {
		panic("simd: DotInt8: len(a) != len(b)")
	}
	return active.dotInt8(a, b)
}

// DotInt8Batch is DotBatch for int8 vectors: out[i] = DotInt8(q, rows[i*dim:(i+1)*dim]).
// It panics unless len(q) == dim and len(rows) >= len(out)*dim.
func DotInt8Batch(q, rows []int8, dim int, out []int32) {
	if len(q) != dim {
		panic("simd: DotInt8Batch: len(q) != dim")
	}
	if dim == 0 {
		clear(out)
		return
	}
	if len(out) > len(rows)/dim {
		panic("simd: DotInt8Batch: rows holds fewer than len(out) rows of dim elements")
	}
	active.dotInt8Batch(q, rows, dim, out)
}

// Quantize maps v to symmetric int8 codes with one scale for the whole vector:
// scale = max|v[i]| / 127 and out[i] = round(v[i] / scale), so v[i] ≈ float32(out[i]) * scale
// with an error of at most scale/2. A zero vector gets scale 0 and all-zero codes.
// v must be finite. It panics if len(out) < len(v); out[len(v):] is left untouched.
func Quantize(v []float32, out []int8) (scale float32) {
	if len(out) < len(v) {
		panic("simd: Quantize: len(out) < len(v)")
	}
	out = out[:len(v)]
	maxAbs := active.maxAbs(v)
	if maxAbs == 0 {
		clear(out)
		return 0
	}
	scale64 := float64(maxAbs) / 127
	if maxAbs >= 0x1p-64 {
		// float32 arithmetic, about 3× faster than float64 with math.Round (Quantize runs
		// on every remember); the codes differ from exact rounding only for products
		// within float32's precision of a half.
		active.quantize(v, float32(127/float64(maxAbs)), out)
		return float32(scale64)
	}
	// A tiny maxAbs, whose inverse would overflow float32: float64 keeps the codes finite.
	for i, x := range v {
		// Clamping guards against ±maxAbs/scale rounding to just above 127.
		r := math.Round(float64(x) / scale64)
		out[i] = int8(min(max(r, -127), 127))
	}
	return float32(scale64)
}

// maxAbsGeneric returns max |v[i]|, 0 for an empty v.
func maxAbsGeneric(v []float32) float32 {
	var m float32
	for _, x := range v {
		if a := abs32(x); a > m { // not max(): its NaN handling costs a branch more
			m = a
		}
	}
	return m
}

// quantizeGeneric sets out[i] to v[i]·inv rounded half away from zero, clamped to ±127.
func quantizeGeneric(v []float32, inv float32, out []int8) {
	out = out[:len(v)]
	for i, x := range v {
		r := x * inv
		// Half away from zero, without a branch on the sign: ±0.5 carries r's sign.
		r += math.Float32frombits(0x3f000000 | math.Float32bits(r)&(1<<31))
		out[i] = int8(min(max(int32(r), -127), 127)) // int32(r) truncates toward zero
	}
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }
