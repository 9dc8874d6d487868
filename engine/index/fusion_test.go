package index

import (
	"slices"
	"testing"
)

func TestFuseRRF(t *testing.T) {
	rrf := func(ranks ...int) float32 {
		var s float64
		for _, r := range ranks {
			s += 1 / float64(RRFK+r)
		}
		return float32(s)
	}
	list := func(rows ...uint32) []Scored {
		out := make([]Scored, len(rows))
		for i, r := range rows {
			out[i] = Scored{Row: r, Score: float32(100 - i)} // own scores are ignored
		}
		return out
	}
	tests := []struct {
		name  string
		lists [][]Scored
		want  []Scored
	}{
		{"nothing", nil, nil},
		{"empty lists", [][]Scored{{}, nil}, nil},
		{"single list keeps its order", [][]Scored{list(5, 3, 9)},
			[]Scored{{5, rrf(1)}, {3, rrf(2)}, {9, rrf(3)}}},
		{"agreement beats one top rank", [][]Scored{list(1, 2, 3), list(2, 4, 1)},
			[]Scored{{2, rrf(2, 1)}, {1, rrf(1, 3)}, {4, rrf(2)}, {3, rrf(3)}}},
		{"ties broken by row", [][]Scored{list(8), list(4)},
			[]Scored{{4, rrf(1)}, {8, rrf(1)}}},
		{"repeat within a list counts once", [][]Scored{list(7, 7, 6)},
			[]Scored{{7, rrf(1)}, {6, rrf(3)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FuseRRF(tt.lists...); !slices.Equal(got, tt.want) {
				t.Fatalf("FuseRRF = %v, want %v", got, tt.want)
			}
		})
	}
}
