package simd

import (
	"math"
	"slices"
	"testing"
)

func dotInt8Reference(a, b []int8) int64 {
	var s int64
	for i := range a {
		s += int64(a[i]) * int64(b[i])
	}
	return s
}

func filledInt8(n int, v int8) []int8 {
	s := make([]int8, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func TestDotInt8(t *testing.T) {
	r := newRand(10)
	alternating := func(n int) []int8 {
		s := make([]int8, n)
		for i := range s {
			s[i] = []int8{-128, 127}[i%2]
		}
		return s
	}
	type pair struct {
		name string
		a, b []int8
	}
	var cases []pair
	for _, n := range edgeLengths {
		cases = append(cases,
			pair{"random", randInt8s(r, n, 0), randInt8s(r, n, 0)},
			pair{"random unaligned", randInt8s(r, n, 1), randInt8s(r, n, 1)},
			pair{"-128*-128", filledInt8(n, -128), filledInt8(n, -128)},
			pair{"-128*127", filledInt8(n, -128), filledInt8(n, 127)},
			pair{"127*127", filledInt8(n, 127), filledInt8(n, 127)},
			pair{"alternating", alternating(n), filledInt8(n, -128)},
		)
	}
	for _, k := range testKernels(t) {
		t.Run(k.path, func(t *testing.T) {
			for _, c := range cases {
				want := dotInt8Reference(c.a, c.b)
				if got := k.dotInt8(c.a, c.b); int64(got) != want {
					t.Errorf("%s n=%d: %d, want %d", c.name, len(c.a), got, want)
				}
			}
		})
	}
}

// TestDotInt8Wraps checks that a sum past the int32 range wraps identically on every
// path: 140,000 products of -128·-128 exceed 2^31.
func TestDotInt8Wraps(t *testing.T) {
	a := filledInt8(140_000, -128)
	want := int32(dotInt8Reference(a, a)) // conversion wraps modulo 2^32
	if int64(want) == dotInt8Reference(a, a) {
		t.Fatal("test vector does not overflow int32")
	}
	for _, k := range testKernels(t) {
		if got := k.dotInt8(a, a); got != want {
			t.Errorf("%s: %d, want %d", k.path, got, want)
		}
	}
}

func TestDotInt8Batch(t *testing.T) {
	r := newRand(11)
	const sentinel = int32(math.MinInt32)
	for _, k := range testKernels(t) {
		t.Run(k.path, func(t *testing.T) {
			for _, dim := range []int{1, 7, 16, 31, 33, 64, 65, 768} {
				for _, n := range []int{0, 1, 3, 17} {
					q, rows := randInt8s(r, dim, 1), randInt8s(r, (n+1)*dim, 1)
					out := make([]int32, n+1)
					out[n] = sentinel
					k.dotInt8Batch(q, rows, dim, out[:n])
					for i := range n {
						if want := dotInt8Reference(q, rows[i*dim:(i+1)*dim]); int64(out[i]) != want {
							t.Errorf("dim=%d n=%d row %d: %d, want %d", dim, n, i, out[i], want)
						}
					}
					if out[n] != sentinel {
						t.Errorf("dim=%d n=%d: wrote past len(out)", dim, n)
					}
				}
			}
		})
	}
}

func TestQuantizeRoundTrip(t *testing.T) {
	r := newRand(12)
	for _, n := range []int{1, 7, 768, 1536} {
		for _, magnitude := range []float32{1e-30, 1e-3, 1, 1e6} {
			v := randFloats(r, n, 0)
			for i := range v {
				v[i] *= magnitude
			}
			out := make([]int8, n+1)
			out[n] = 99
			scale := Quantize(v, out)
			if out[n] != 99 {
				t.Fatalf("n=%d: Quantize wrote past len(v)", n)
			}
			var maxAbs float32
			for _, x := range v {
				maxAbs = max(maxAbs, abs32(x))
			}
			if !closeTo(scale, maxAbs/127, 1e-6*float64(maxAbs/127)) {
				t.Errorf("n=%d: scale = %g, want maxabs/127 = %g", n, scale, maxAbs/127)
			}
			// Rounding to the nearest code loses at most half a step; the float32 scale adds
			// a relative error of 2^-24 per code step.
			bound := float64(scale) * (0.5 + 1e-5)
			sawExtreme := false
			for i, x := range v {
				if out[i] == -128 {
					t.Fatalf("n=%d: code -128 is outside the symmetric range", n)
				}
				sawExtreme = sawExtreme || out[i] == 127 || out[i] == -127
				if d := math.Abs(float64(x) - float64(out[i])*float64(scale)); d > bound {
					t.Fatalf("n=%d mag=%g: v[%d]=%g decoded %g, error %g > %g", n, magnitude, i, x, float32(out[i])*scale, d, bound)
				}
			}
			if !sawExtreme {
				t.Errorf("n=%d: the largest element did not map to ±127", n)
			}
		}
	}
}

// Every path computes the same codes as the portable loop, at every length and alignment,
// for values at the rounding boundaries too.
func TestQuantizeKernels(t *testing.T) {
	r := newRand(13)
	special := []float32{0, float32(math.Copysign(0, -1)), 0.5, -0.5, 1.5, -1.5, 126.5, -126.5, 127, -127,
		127.49999, -127.49999, 0.49999997, -0.49999997, 1e-38, -1e-38}
	for _, k := range testKernels(t) {
		for _, n := range edgeLengths {
			for _, off := range []int{0, 1, 3} {
				for _, mag := range []float32{1e-20, 1, 3e5} {
					v := randFloats(r, n, off)
					for i := range v {
						v[i] *= mag
					}
					if got, want := k.maxAbs(v), maxAbsGeneric(v); got != want {
						t.Fatalf("%s n=%d off=%d: maxAbs = %v, generic %v", k.path, n, off, got, want)
					}
					inv := float32(127 / float64(maxAbsGeneric(v)))
					if n == 0 {
						inv = 1
					}
					got, want := make([]int8, n+1), make([]int8, n+1)
					got[n], want[n] = 99, 99
					k.quantize(v, inv, got)
					quantizeGeneric(v, inv, want)
					if !slices.Equal(got, want) {
						t.Fatalf("%s n=%d off=%d mag=%g: codes %v, generic %v", k.path, n, off, mag, got, want)
					}
				}
			}
		}
		// Values that land exactly on or next to a half, with inv 1.
		got, want := make([]int8, len(special)), make([]int8, len(special))
		k.quantize(special, 1, got)
		quantizeGeneric(special, 1, want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: boundary codes %v, generic %v", k.path, got, want)
		}
	}
	// 0.49999997 + 0.5 rounds to 1 in float32: the documented cost of float32 arithmetic.
	want := []int8{0, 0, 1, -1, 2, -2, 127, -127, 127, -127, 127, -127, 1, -1, 0, 0}
	got := make([]int8, len(special))
	quantizeGeneric(special, 1, got)
	if !slices.Equal(got, want) {
		t.Errorf("generic boundary codes %v, want %v", got, want)
	}
}

func TestQuantizeZeroAndEmpty(t *testing.T) {
	out := []int8{5, 5, 5}
	if scale := Quantize(make([]float32, 3), out); scale != 0 || !slices.Equal(out, []int8{0, 0, 0}) {
		t.Errorf("zero vector: scale %v, codes %v", scale, out)
	}
	if scale := Quantize(nil, nil); scale != 0 {
		t.Errorf("empty vector: scale %v", scale)
	}
	codes := make([]int8, 3)
	Quantize([]float32{-2, 1, 2}, codes)
	if !slices.Equal(codes, []int8{-127, 64, 127}) {
		t.Errorf("codes = %v, want [-127 64 127]", codes)
	}
}
