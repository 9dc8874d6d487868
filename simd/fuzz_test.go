package simd

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"
)

// FuzzDot compares every path with the portable one on arbitrary vectors: data is split
// into two equal halves, read as int8 codes for DotInt8 and as floats (code/16, so that
// sums stay finite) for Dot and Cosine. skip drops leading elements to vary alignment.
func FuzzDot(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte{0x80, 0x80}, uint8(0))
	f.Add([]byte("the quick brown fox jumps over the lazy dog, twice over"), uint8(3))
	seed := make([]byte, 2*768)
	for i := range seed {
		seed[i] = byte(i * 7)
	}
	f.Add(seed, uint8(1))

	ks := testKernels(f)
	f.Fuzz(func(t *testing.T, data []byte, skip uint8) {
		n := len(data) / 2
		if int(skip) > n {
			skip = uint8(n)
		}
		ia := make([]int8, n)
		ib := make([]int8, n)
		fa := make([]float32, n)
		fb := make([]float32, n)
		for i := range n {
			ia[i], ib[i] = int8(data[i]), int8(data[n+i])
			fa[i], fb[i] = float32(ia[i])/16, float32(ib[i])/16
		}
		ia, ib, fa, fb = ia[skip:], ib[skip:], fa[skip:], fb[skip:]

		wantDot := dotGeneric(fa, fb)
		wantCos := cosineGeneric(fa, fb)
		wantInt8 := dotInt8Generic(ia, ib)
		_, sumAbs := dotReference(fa, fb)
		for _, k := range ks {
			if got := k.dot(fa, fb); !closeTo(got, wantDot, dotTolerance(sumAbs)) {
				t.Errorf("%s: dot = %v, generic %v", k.path, got, wantDot)
			}
			if got := k.cosine(fa, fb); !closeTo(got, wantCos, 1e-4) {
				t.Errorf("%s: cosine = %v, generic %v", k.path, got, wantCos)
			}
			if got := k.dotInt8(ia, ib); got != wantInt8 {
				t.Errorf("%s: dotInt8 = %d, generic %d", k.path, got, wantInt8)
			}
			if got := k.norm(fa); !closeTo(got, normGeneric(fa), 1e-4*float64(normGeneric(fa))) {
				t.Errorf("%s: norm = %v, generic %v", k.path, got, normGeneric(fa))
			}
		}
		if math.IsNaN(float64(wantCos)) {
			t.Errorf("generic cosine is NaN for finite input")
		}
	})
}

// FuzzQuantize compares every path's maxAbs and codes with the portable ones on arbitrary
// finite vectors (data read as little-endian float32 bits; NaN and infinities dropped).
func FuzzQuantize(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte{0, 0, 0, 0x3f, 0, 0, 0, 0xbf}, uint8(0)) // 0.5, -0.5
	seed := make([]byte, 4*40)
	for i := range seed {
		seed[i] = byte(i * 13)
	}
	f.Add(seed, uint8(2))

	ks := testKernels(f)
	f.Fuzz(func(t *testing.T, data []byte, skip uint8) {
		var v []float32
		for i := 0; i+4 <= len(data); i += 4 {
			x := math.Float32frombits(binary.LittleEndian.Uint32(data[i:]))
			if !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) {
				v = append(v, x)
			}
		}
		v = v[min(int(skip), len(v)):]
		wantMax := maxAbsGeneric(v)
		inv := float32(1)
		if wantMax >= 0x1p-64 {
			inv = float32(127 / float64(wantMax))
		}
		want := make([]int8, len(v))
		quantizeGeneric(v, inv, want)
		for _, k := range ks {
			if got := k.maxAbs(v); got != wantMax {
				t.Errorf("%s: maxAbs = %v, generic %v", k.path, got, wantMax)
			}
			got := make([]int8, len(v))
			k.quantize(v, inv, got)
			if !slices.Equal(got, want) {
				t.Errorf("%s: codes %v, generic %v", k.path, got, want)
			}
		}
	})
}
