package simd

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

func TestDotMatchesReference(t *testing.T) {
	r := newRand(1)
	for _, k := range testKernels(t) {
		t.Run(k.path, func(t *testing.T) {
			for _, n := range edgeLengths {
				for _, off := range []int{0, 1} {
					a, b := randFloats(r, n, off), randFloats(r, n, off)
					want, sumAbs := dotReference(a, b)
					if got := k.dot(a, b); !closeTo(got, float32(want), dotTolerance(sumAbs)) {
						t.Errorf("n=%d off=%d: dot = %v, want %v", n, off, got, want)
					}
					if got, want := k.dot(a, b), dotGeneric(a, b); !closeTo(got, want, dotTolerance(sumAbs)) {
						t.Errorf("n=%d off=%d: dot = %v, generic %v", n, off, got, want)
					}
				}
			}
		})
	}
}

func TestDotSpecialInputs(t *testing.T) {
	ones := func(n int, v float32) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = v
		}
		return s
	}
	tests := []struct {
		name string
		a, b []float32
		want float32
	}{
		{"zeros", make([]float32, 33), ones(33, 5), 0},
		{"ones 768", ones(768, 1), ones(768, 1), 768},
		{"negative", ones(17, -2), ones(17, 3), -102},
		{"mixed magnitudes", []float32{1e6, 1e-6, -3, 0.5}, []float32{1e-6, 1e6, 1, 4}, 1},
	}
	for _, k := range testKernels(t) {
		for _, tt := range tests {
			t.Run(k.path+"/"+tt.name, func(t *testing.T) {
				_, sumAbs := dotReference(tt.a, tt.b)
				if got := k.dot(tt.a, tt.b); !closeTo(got, tt.want, dotTolerance(sumAbs)) {
					t.Errorf("dot = %v, want %v (±%g)", got, tt.want, dotTolerance(sumAbs))
				}
			})
		}
	}
}

func TestNormAndCosine(t *testing.T) {
	r := newRand(2)
	for _, k := range testKernels(t) {
		t.Run(k.path, func(t *testing.T) {
			for _, n := range edgeLengths {
				a, b := randFloats(r, n, 1), randFloats(r, n, 0)
				aa, _ := dotReference(a, a)
				bb, _ := dotReference(b, b)
				ab, _ := dotReference(a, b)
				wantNorm := math.Sqrt(aa)
				if got := k.norm(a); !closeTo(got, float32(wantNorm), 1e-4*wantNorm+1e-30) {
					t.Errorf("n=%d: norm = %v, want %v", n, got, wantNorm)
				}
				wantCos := 0.0
				if aa > 0 && bb > 0 {
					wantCos = ab / math.Sqrt(aa*bb)
				}
				// Σ|a_i b_i| <= |a||b|, so the dot tolerance becomes 1e-4 on the cosine.
				if got := k.cosine(a, b); !closeTo(got, float32(wantCos), 1e-4) {
					t.Errorf("n=%d: cosine = %v, want %v", n, got, wantCos)
				}
				if n > 0 {
					if got := k.cosine(a, a); !closeTo(got, 1, 1e-5) {
						t.Errorf("n=%d: cosine(a, a) = %v, want 1", n, got)
					}
				}
			}
		})
	}
}

func TestCosineZeroNorm(t *testing.T) {
	r := newRand(3)
	for _, k := range testKernels(t) {
		t.Run(k.path, func(t *testing.T) {
			for _, n := range []int{0, 1, 17, 768} {
				zero, v := make([]float32, n), randFloats(r, n, 0)
				for _, pair := range [][2][]float32{{zero, v}, {v, zero}, {zero, zero}} {
					if got := k.cosine(pair[0], pair[1]); got != 0 {
						t.Errorf("n=%d: cosine with a zero vector = %v, want 0", n, got)
					}
				}
				if got := k.norm(zero); got != 0 {
					t.Errorf("n=%d: norm(0) = %v", n, got)
				}
			}
		})
	}
}

func TestDotBatch(t *testing.T) {
	r := newRand(4)
	const sentinel = float32(-12345)
	for _, k := range testKernels(t) {
		t.Run(k.path, func(t *testing.T) {
			for _, dim := range []int{1, 7, 8, 15, 16, 17, 31, 32, 33, 48, 768} {
				for _, n := range []int{0, 1, 3, 4, 5, 17} {
					for _, off := range []int{0, 1} {
						q := randFloats(r, dim, off)
						// Two spare rows after the n scored ones must not be read into out.
						rows := randFloats(r, (n+2)*dim, off)
						outBuf := make([]float32, n+1)
						outBuf[n] = sentinel
						k.dotBatch(q, rows, dim, outBuf[:n])
						for i := range n {
							row := rows[i*dim : (i+1)*dim]
							want, sumAbs := dotReference(q, row)
							if !closeTo(outBuf[i], float32(want), dotTolerance(sumAbs)) {
								t.Errorf("dim=%d n=%d off=%d row %d: %v, want %v", dim, n, off, i, outBuf[i], want)
							}
						}
						if outBuf[n] != sentinel {
							t.Errorf("dim=%d n=%d off=%d: wrote past len(out)", dim, n, off)
						}
					}
				}
			}
		})
	}
}

// TestDotBatchManyCalls covers slabs the assembly paths split into several calls.
func TestDotBatchManyCalls(t *testing.T) {
	r := newRand(5)
	const dim, n = 768, 1000 // 1000 rows of 3 KiB span three 1 MiB calls
	q, rows := randFloats(r, dim, 0), randFloats(r, n*dim, 0)
	want := make([]float32, n)
	dotBatchGeneric(q, rows, dim, want)
	for _, k := range testKernels(t) {
		t.Run(k.path, func(t *testing.T) {
			got := make([]float32, n)
			k.dotBatch(q, rows, dim, got)
			for i := range n {
				_, sumAbs := dotReference(q, rows[i*dim:(i+1)*dim])
				if !closeTo(got[i], want[i], dotTolerance(sumAbs)) {
					t.Fatalf("row %d: %v, generic %v", i, got[i], want[i])
				}
			}
		})
	}
}

func TestAxpyAndScale(t *testing.T) {
	r := newRand(6)
	for _, k := range testKernels(t) {
		t.Run(k.path, func(t *testing.T) {
			for _, n := range edgeLengths {
				for _, alpha := range []float32{0, 1, -0.5, 3.25} {
					x, y := randFloats(r, n, 1), randFloats(r, n+1, 0)
					orig := slices.Clone(y)
					k.axpy(alpha, x, y[:n])
					for i := range n {
						want := float64(orig[i]) + float64(alpha)*float64(x[i])
						tol := 1e-6 * (math.Abs(float64(orig[i])) + math.Abs(float64(alpha)*float64(x[i])))
						if !closeTo(y[i], float32(want), tol) {
							t.Fatalf("n=%d alpha=%v: axpy y[%d] = %v, want %v", n, alpha, i, y[i], want)
						}
					}
					if y[n] != orig[n] {
						t.Fatalf("n=%d: axpy wrote past len(y)", n)
					}

					got, want := slices.Clone(x), slices.Clone(x)
					k.scale(alpha, got)
					scaleGeneric(alpha, want)
					if !slices.Equal(got, want) {
						t.Fatalf("n=%d alpha=%v: scale differs from generic", n, alpha)
					}
				}
			}
		})
	}
}

// TestAxpySameSlice checks the one overlap Axpy allows: x and y the same slice.
func TestAxpySameSlice(t *testing.T) {
	for _, k := range testKernels(t) {
		t.Run(k.path, func(t *testing.T) {
			y := randFloats(newRand(7), 100, 0)
			want := slices.Clone(y)
			for i := range want {
				want[i] *= 3
			}
			k.axpy(2, y, y)
			for i := range y {
				if !closeTo(y[i], want[i], 1e-6*math.Abs(float64(want[i]))) {
					t.Fatalf("y[%d] = %v, want %v", i, y[i], want[i])
				}
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	r := newRand(8)
	for _, n := range []int{1, 7, 768} {
		v := randFloats(r, n, 0)
		Normalize(v)
		if got := Norm(v); !closeTo(got, 1, 1e-5) {
			t.Errorf("n=%d: norm after Normalize = %v", n, got)
		}
	}
	zero := make([]float32, 9)
	Normalize(zero)
	if slices.ContainsFunc(zero, func(x float32) bool { return x != 0 }) {
		t.Errorf("Normalize changed a zero vector: %v", zero)
	}
	Normalize(nil)
}

// TestExportedDispatch runs the exported functions once each so the active table is
// exercised as callers see it.
func TestExportedDispatch(t *testing.T) {
	if !slices.Contains(Available(), Path()) {
		t.Fatalf("Path() = %q, not in Available() = %v", Path(), Available())
	}
	a, b := []float32{1, 2, 3}, []float32{4, 5, 6}
	if got := Dot(a, b); got != 32 {
		t.Errorf("Dot = %v, want 32", got)
	}
	if got := Norm([]float32{3, 4}); got != 5 {
		t.Errorf("Norm = %v, want 5", got)
	}
	if got := Cosine(a, a); !closeTo(got, 1, 1e-6) {
		t.Errorf("Cosine(a, a) = %v", got)
	}
	out := make([]float32, 2)
	DotBatch(a, append(slices.Clone(a), b...), 3, out)
	if out[0] != 14 || out[1] != 32 {
		t.Errorf("DotBatch = %v, want [14 32]", out)
	}
	y := []float32{1, 1, 1}
	Axpy(2, a, y)
	Scale(0.5, y)
	if !slices.Equal(y, []float32{1.5, 2.5, 3.5}) {
		t.Errorf("Axpy then Scale = %v", y)
	}
	iout := make([]int32, 2)
	DotInt8Batch([]int8{1, -2}, []int8{3, 4, -128, 127}, 2, iout)
	if got := DotInt8([]int8{1, -2}, []int8{3, 4}); got != -5 || iout[0] != -5 || iout[1] != -382 {
		t.Errorf("DotInt8 = %d, DotInt8Batch = %v", got, iout)
	}
	DotBatch(nil, nil, 0, out)
	if out[0] != 0 || out[1] != 0 {
		t.Errorf("DotBatch with dim 0 = %v, want zeros", out)
	}
}

func TestPreconditionPanics(t *testing.T) {
	f3, f2 := make([]float32, 3), make([]float32, 2)
	i3, i2 := make([]int8, 3), make([]int8, 2)
	tests := []struct {
		name string
		call func()
	}{
		{"Dot", func() { Dot(f3, f2) }},
		{"Cosine", func() { Cosine(f2, f3) }},
		{"Axpy", func() { Axpy(1, f3, f2) }},
		{"DotBatch q", func() { DotBatch(f2, f3, 3, f2) }},
		{"DotBatch negative dim", func() { DotBatch(nil, f3, -1, f2) }},
		{"DotBatch short rows", func() { DotBatch(f3, make([]float32, 5), 3, f2) }},
		{"DotInt8", func() { DotInt8(i3, i2) }},
		{"DotInt8Batch q", func() { DotInt8Batch(i2, i3, 3, nil) }},
		{"DotInt8Batch short rows", func() { DotInt8Batch(i3, make([]int8, 5), 3, make([]int32, 2)) }},
		{"Quantize short out", func() { Quantize(f3, i2) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", tt.name)
				}
			}()
			tt.call()
		})
	}
}

func ExampleCosine() {
	a := []float32{1, 0, 1}
	b := []float32{1, 0, 0}
	fmt.Printf("%.4f\n", Cosine(a, b))
	// Output: 0.7071
}
