package engine

import "math"

// ConfidenceCategory is the API's High/Medium/Low bucket of a confidence value.
func ConfidenceCategory(v float32) string {
	switch {
	case v > 0.7:
		return "High"
	case v > 0.4:
		return "Medium"
	}
	return "Low"
}

// AnswerConfidence is the confidence of a recall's answer as a whole (docs/recall.md,
// "Split and confidence"): min(1, 0.7 × the best score + 0.3 × the mean score) of the
// returned memories, in any order; 0 for none.
func AnswerConfidence(scores []float32) float32 {
	if len(scores) == 0 {
		return 0
	}
	var sum, best float32
	for _, s := range scores {
		sum += s
		best = max(best, s)
	}
	return float32(math.Min(1, float64(0.7*best+0.3*sum/float32(len(scores)))))
}
