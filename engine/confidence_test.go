package engine

import (
	"context"
	"sort"
	"testing"
)

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

// TestRecallConfidenceFollowsTheRule: a recall's confidence is AnswerConfidence of the
// returned scores, also when the memory ranked first (it holds every query term) is not the
// best scored one, and another space's memories do not count.
func TestRecallConfidenceFollowsTheRule(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Defaults.Dimension = 8
	e := openTest(t, cfg)
	defer e.Close()
	s, other := mustSpace(t, e, "default"), mustSpace(t, e, "other-space")
	ctx := context.Background()
	cue := zeroPadded(8, 1)
	for _, sp := range []struct {
		s *Space
		m Memory
	}{
		{s, Memory{ID: "words", Content: "orchard apples", Confidence: 0.1, Embedding: zeroPadded(8, 0, 1)}},
		{s, Memory{ID: "vector", Content: "unrelated text", Confidence: 1, Embedding: cue}},
		{other, Memory{ID: "elsewhere", Content: "orchard apples", Confidence: 1, Embedding: cue}},
	} {
		if _, err := sp.s.Remember(ctx, sp.m, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.Recall(ctx, Cue{Query: "orchard apples", Embedding: cue, Mode: ModeSimilarity, Threshold: 0.01, NoReinforce: true})
	if err != nil {
		t.Fatal(err)
	}
	ranked := allHits(res)
	sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].Score > ranked[j].Score })
	if len(ranked) != 2 || ranked[0].Memory.ID != "vector" {
		t.Fatalf("hits %+v: want words and vector, vector scored best", ranked)
	}
	if first := res.Vivid[0].Memory.ID; first != "words" {
		t.Fatalf("first hit %s: want words (every query term) ranked first", first)
	}
	scores := []float32{ranked[0].Score, ranked[1].Score}
	if want := AnswerConfidence(scores); res.Confidence != want {
		t.Fatalf("confidence %v, want AnswerConfidence(%v) = %v", res.Confidence, scores, want)
	}
}
