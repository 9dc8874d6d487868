package main

import "testing"

func TestDirectionOf(t *testing.T) {
	tests := []struct {
		unit   string
		allocs bool
		want   Direction
	}{
		{"sec/op", false, LowerIsBetter},
		{"sec/row", false, LowerIsBetter},
		{"p99-ms", false, LowerIsBetter},
		{"p50-us", false, LowerIsBetter},
		{"B/s", false, HigherIsBetter},
		{"records/s", false, HigherIsBetter},
		{"memories/s", false, HigherIsBetter},
		{"recall@10", false, HigherIsBetter},
		{"x-generic", false, HigherIsBetter},
		{"B/op", false, Unjudged},
		{"allocs/op", false, Unjudged},
		{"B/op", true, LowerIsBetter},
		{"allocs/op", true, LowerIsBetter},
		{"visited/op", true, Unjudged},
		{"records/fsync", false, Unjudged},
		{"memories", false, Unjudged},
	}
	for _, tt := range tests {
		if got := DirectionOf(tt.unit, tt.allocs); got != tt.want {
			t.Errorf("DirectionOf(%q, allocs=%v) = %v, want %v", tt.unit, tt.allocs, got, tt.want)
		}
	}
}

func TestJudge(t *testing.T) {
	slower := Comparison{Name: "slower", Unit: "sec/op", Significant: true, Delta: 19.7, P: 0.004}
	faster := Comparison{Name: "faster", Unit: "sec/op", Significant: true, Delta: -30, P: 0.002}
	noisy := Comparison{Name: "noisy", Unit: "sec/op", Delta: 40, P: 0.3}
	slightly := Comparison{Name: "slightly", Unit: "sec/op", Significant: true, Delta: 6, P: 0.002}
	fewerRecords := Comparison{Name: "fewer", Unit: "records/s", Significant: true, Delta: -20, P: 0.002}
	moreRecords := Comparison{Name: "more", Unit: "records/s", Significant: true, Delta: 20, P: 0.002}
	lowerRecall := Comparison{Name: "recall", Unit: "recall@10", Significant: true, Delta: -12, P: 0.01}
	moreAllocs := Comparison{Name: "allocs", Unit: "allocs/op", Significant: true, Delta: 100, P: 0.002}
	count := Comparison{Name: "count", Unit: "visited/op", Significant: true, Delta: 300, P: 0.002}
	all := []Comparison{slower, faster, noisy, slightly, fewerRecords, moreRecords, lowerRecall, moreAllocs, count}

	tests := []struct {
		name         string
		policy       Policy
		regressions  []string
		improvements []string
		judged       int
	}{
		{"default", Policy{Threshold: 10, Alpha: 0.05}, []string{"slower", "fewer", "recall"}, []string{"faster", "more"}, 7},
		{"lenient threshold", Policy{Threshold: 25, Alpha: 0.05}, nil, []string{"faster"}, 7},
		{"strict threshold", Policy{Threshold: 5, Alpha: 0.05}, []string{"slower", "slightly", "fewer", "recall"}, []string{"faster", "more"}, 7},
		{"strict alpha", Policy{Threshold: 10, Alpha: 0.003}, []string{"fewer"}, []string{"faster", "more"}, 7},
		{"allocations judged", Policy{Threshold: 10, Alpha: 0.05, Allocs: true}, []string{"slower", "fewer", "recall", "allocs"}, []string{"faster", "more"}, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Judge(all, tt.policy)
			if got := names(v.Regressions); !equal(got, tt.regressions) {
				t.Errorf("regressions %v, want %v", got, tt.regressions)
			}
			if got := names(v.Improvements); !equal(got, tt.improvements) {
				t.Errorf("improvements %v, want %v", got, tt.improvements)
			}
			if v.Judged != tt.judged {
				t.Errorf("judged %d, want %d", v.Judged, tt.judged)
			}
		})
	}
}

func names(cs []Comparison) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
