package engine

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestValidateEmbedding(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	withElement := func(n, at int, x float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i%7) - 3
		}
		if at >= 0 {
			v[at] = x
		}
		return v
	}
	tests := []struct {
		name    string
		v       []float32
		dim     int
		wantErr string // "" for valid
	}{
		{"finite", withElement(768, -1, 0), 768, ""},
		{"extremes", []float32{1e19, -1e19, math.SmallestNonzeroFloat32, float32(math.Copysign(0, -1)), 0}, 5, ""},
		{"zero", make([]float32, 768), 768, "embedding has length 0"},
		{"negative zeros", []float32{float32(math.Copysign(0, -1)), float32(math.Copysign(0, -1))}, 2, "embedding has length 0"},
		{"underflowing", []float32{1e-45, 1e-45, 1e-45, 1e-45, 1e-45, 1e-45, 1e-45, 1e-45}, 8, "embedding has length 0"},
		{"smallest with a length", []float32{1e-22, 0, 0, 0, 0, 0, 0, 0}, 8, ""},
		{"overflowing length", []float32{math.MaxFloat32, -math.MaxFloat32, 1}, 3, "length overflows"},
		{"just overflowing", []float32{2e19, 0, 0, 0}, 4, "length overflows"},
		{"wrong length", withElement(767, -1, 0), 768, "embedding has 767 dimensions, this space expects 768"},
		{"NaN first", withElement(768, 0, nan), 768, "embedding[0] is not a finite number"},
		{"+Inf in a chain", withElement(768, 402, inf), 768, "embedding[402] is not a finite number"},
		{"-Inf last", withElement(768, 767, -inf), 768, "embedding[767] is not a finite number"},
		{"NaN in the tail", withElement(7, 5, nan), 7, "embedding[5] is not a finite number"},
		{"-NaN", withElement(9, 8, float32(math.Copysign(math.NaN(), -1))), 9, "embedding[8] is not a finite number"},
		{"empty", nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateEmbedding(tt.v, tt.dim)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want ErrInvalidInput with %q", err, tt.wantErr)
			}
		})
	}
}
