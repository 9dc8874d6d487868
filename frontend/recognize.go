package frontend

import (
	"fmt"

	"github.com/engram-go/engram/engine"
)

// RecognitionReason explains a recognition's confidence (its familiarity) in words.
func RecognitionReason(r *engine.Recognition) string {
	if len(r.Similar) == 0 {
		return "No stored memory is similar to the input."
	}
	return fmt.Sprintf("The most similar stored memory matches with similarity %.2f; recognized from %.2f.", r.Familiarity, r.Threshold)
}
