package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestScaleIntoPathsAgree checks that the scalar and vector paths give the same bits, so
// that activations (and thus results) never depend on a node's degree or the CPU.
func TestScaleIntoPathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 7, vectorMinBlock - 1, vectorMinBlock, vectorMinBlock + 1, 100, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			w := make([]float32, n)
			for i := range w {
				w[i] = rng.Float32()
			}
			alpha := rng.Float32()
			for _, scale := range []func(dst, w []float32, alpha float32){scaleInto, scaleScalar, scaleVector} {
				got := make([]float32, n)
				scale(got, w, alpha)
				for i := range w {
					if want := alpha * w[i]; got[i] != want {
						t.Fatalf("offer %d: %v, want %v", i, got[i], want)
					}
				}
			}
		})
	}
}

// BenchmarkScaleInto measures the offers of one fanout block by path, at lengths around
// vectorMinBlock.
func BenchmarkScaleInto(b *testing.B) {
	for _, n := range []int{8, 16, 24, 32, 48, 64, 128} {
		w := make([]float32, n)
		for i := range w {
			w[i] = 1 - float32(i)/float32(2*n)
		}
		dst := make([]float32, n)
		b.Run(fmt.Sprintf("scalar/%d", n), func(b *testing.B) {
			for b.Loop() {
				scaleScalar(dst, w, 0.37)
			}
		})
		b.Run(fmt.Sprintf("vector/%d", n), func(b *testing.B) {
			for b.Loop() {
				scaleVector(dst, w, 0.37)
			}
		})
	}
}
