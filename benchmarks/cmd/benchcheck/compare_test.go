package main

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// twoPackages is benchstat's CSV comparison of a baseline and a new run (benchstat
// v0.0.0-20260908200009-22c9c6c9d4da): a time regression in simd, an unchanged
// benchmark, a benchmark on each side only, a throughput drop and a quoted cpu line.
const twoPackages = `goos: linux
goarch: amd64
pkg: github.com/engram-go/engram/engine
"cpu: AMD EPYC, 2 cores"
,base.txt,,new.txt,,,
,sec/op,CI,sec/op,CI,vs base,P
OnlyOld-2,1.0000000000000001e-07,∞
OnlyNew-2,,,1.0000000000000001e-07,∞
geomean,9.999999999999994e-08,,9.999999999999994e-08,,?,

pkg: github.com/engram-go/engram/simd
,base.txt,,new.txt,,,
,sec/op,CI,sec/op,CI,vs base,P
Cosine768/generic-2,5.025000000000001e-07,1%,6.015000000000001e-07,15%,+19.70%,p=0.004 n=6
X-2,1.005e-07,1%,1.005e-07,1%,~,p=1.000 n=6
geomean,2.2472483173872892e-07,,2.458673422803442e-07,,+9.41%,

,base.txt,,new.txt,,,
,B/op,CI,B/op,CI,vs base,P
Cosine768/generic-2,100,0%,150,0%,+50.00%,p=0.002 n=6
geomean,100.00000000000004,,150,,+50.00%,

,base.txt,,new.txt,,,
,records/s,CI,records/s,CI,vs base,P
X-2,5000,0%,4000,0%,-20.00%,p=0.002 n=6
"a,b-2",5000,0%,5100,3%,~,p=0.180 n=6+5
geomean,5000.000000000004,,4000,,-20.00%,
`

func TestParse(t *testing.T) {
	cs, err := Parse(strings.NewReader(twoPackages))
	if err != nil {
		t.Fatal(err)
	}
	want := []Comparison{
		{Pkg: "github.com/engram-go/engram/simd", Name: "Cosine768/generic-2", Unit: "sec/op", Old: 5.025000000000001e-07, New: 6.015000000000001e-07, Significant: true, Delta: 19.70, P: 0.004},
		{Pkg: "github.com/engram-go/engram/simd", Name: "X-2", Unit: "sec/op", Old: 1.005e-07, New: 1.005e-07, Delta: 0, P: 1},
		{Pkg: "github.com/engram-go/engram/simd", Name: "Cosine768/generic-2", Unit: "B/op", Old: 100, New: 150, Significant: true, Delta: 50, P: 0.002},
		{Pkg: "github.com/engram-go/engram/simd", Name: "X-2", Unit: "records/s", Old: 5000, New: 4000, Significant: true, Delta: -20, P: 0.002},
		{Pkg: "github.com/engram-go/engram/simd", Name: "a,b-2", Unit: "records/s", Old: 5000, New: 5100, Delta: 2, P: 0.18},
	}
	if len(cs) != len(want) {
		t.Fatalf("parsed %d comparisons, want %d: %v", len(cs), len(want), cs)
	}
	for i := range want {
		if !sameComparison(cs[i], want[i]) {
			t.Errorf("comparison %d:\n got %+v\nwant %+v", i, cs[i], want[i])
		}
	}
}

func sameComparison(a, b Comparison) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y)) }
	return a.Pkg == b.Pkg && a.Name == b.Name && a.Unit == b.Unit && a.Significant == b.Significant &&
		near(a.Old, b.Old) && near(a.New, b.New) && near(a.Delta, b.Delta) && near(a.P, b.P)
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, input string
	}{
		{"three inputs", ",a.txt,,b.txt,,c.txt,,,,\n,sec/op,CI,sec/op,CI,vs base,P,sec/op,CI,vs base,P\n"},
		{"text format", "pkg: x\n          │ a.txt │ b.txt │\n"},
		{"bad delta", ",a,,b,,,\n,sec/op,CI,sec/op,CI,vs base,P\nX-2,1,0%,2,0%,lots,p=0.002 n=6\n"},
		{"bad value", ",a,,b,,,\n,sec/op,CI,sec/op,CI,vs base,P\nX-2,one,0%,2,0%,+100%,p=0.002 n=6\n"},
		{"bad p", ",a,,b,,,\n,sec/op,CI,sec/op,CI,vs base,P\nX-2,1,0%,2,0%,+100%,p=low n=6\n"},
		{"no unit row", ",a,,b,,,\n,a,b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(strings.NewReader(tt.input)); !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
		})
	}
}

func TestParseEmpty(t *testing.T) {
	cs, err := Parse(strings.NewReader("goos: linux\n\n"))
	if err != nil || len(cs) != 0 {
		t.Fatalf("Parse of no tables = %v, %v; want nothing, no error", cs, err)
	}
}

func TestPercentChange(t *testing.T) {
	tests := []struct {
		old, new, want float64
	}{
		{100, 110, 10},
		{100, 90, -10},
		{5, 5, 0},
		{0, 0, 0},
		{0, 3, math.Inf(1)},
		{-2, -1, 50},
	}
	for _, tt := range tests {
		if got := percentChange(tt.old, tt.new); got != tt.want {
			t.Errorf("percentChange(%g, %g) = %g, want %g", tt.old, tt.new, got, tt.want)
		}
	}
}
