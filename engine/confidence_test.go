package engine

import "testing"

// TestAnswerConfidence: the documented rule takes the best score wherever it stands in the
// list, since recall ranks fully scored memories before the others.
func TestAnswerConfidence(t *testing.T) {
	tests := []struct {
		name   string
		scores []float32
		want   float32
	}{
		{"none", nil, 0},
		{"one", []float32{0.5}, 0.5},
		{"best first", []float32{0.9, 0.5}, 0.7*0.9 + 0.3*0.7},
		{"best last", []float32{0.5, 0.9}, 0.7*0.9 + 0.3*0.7},
		{"capped at 1", []float32{1, 1}, 1},
	}
	for _, tc := range tests {
		if got := AnswerConfidence(tc.scores); got-tc.want > 1e-6 || tc.want-got > 1e-6 {
			t.Errorf("%s: AnswerConfidence(%v) = %v, want %v", tc.name, tc.scores, got, tc.want)
		}
	}
}
