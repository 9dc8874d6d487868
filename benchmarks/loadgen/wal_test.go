package main

import (
	"fmt"
	"testing"
	"time"
)

// TestFsyncQuantiles: quantiles come from the buckets' growth between two readings, each
// reported as the upper bound of the bucket that holds it.
func TestFsyncQuantiles(t *testing.T) {
	figures := func(b map[float64]float64) walFigures { return walFigures{fsyncBuckets: b} }
	for _, tc := range []struct {
		name          string
		before, after map[float64]float64
		want          []time.Duration
	}{
		{
			name:   "growth only counts",
			before: map[float64]float64{0.0002: 5, 0.01: 7},
			after:  map[float64]float64{0.0002: 15, 0.002: 2, 0.004: 1, 0.01: 7},
			want:   []time.Duration{200 * time.Microsecond, 2 * time.Millisecond, 4 * time.Millisecond},
		},
		{
			name:   "a single bucket",
			before: nil,
			after:  map[float64]float64{0.0005: 3},
			want:   []time.Duration{500 * time.Microsecond, 500 * time.Microsecond, 500 * time.Microsecond},
		},
		{
			name:   "no fsync in between",
			before: map[float64]float64{0.0002: 4},
			after:  map[float64]float64{0.0002: 4},
			want:   nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fsyncQuantiles(figures(tc.before), figures(tc.after), 0.5, 0.9, 0.99)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("p50, p90, p99 = %v, want %v", got, tc.want)
			}
		})
	}
}
