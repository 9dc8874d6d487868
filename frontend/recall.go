package frontend

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/engram-go/engram/engine"
)

// DefaultRecallThreshold is the minimum score of a recalled memory when the client gives
// none (docs/recall.md).
const DefaultRecallThreshold = 0.3

// ParseRecallMode accepts "hybrid" (also ""), "similarity" and "spreading", any case.
func ParseRecallMode(s string) (engine.RecallMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "hybrid":
		return engine.ModeHybrid, nil
	case "similarity":
		return engine.ModeSimilarity, nil
	case "spreading":
		return engine.ModeSpreading, nil
	}
	return 0, Errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("mode must be similarity, spreading or hybrid, got %q", s))
}

// CheckContent enforces the non-empty rule and the [limits] max_content_bytes limit on a
// memory's text, naming the field.
func CheckContent(field, s string, limit int) error {
	if strings.TrimSpace(s) == "" {
		return Errorf(http.StatusBadRequest, CodeInvalidInput, field+" must not be empty")
	}
	if len(s) > limit {
		return Errorf(http.StatusBadRequest, CodeInvalidInput,
			fmt.Sprintf("%s is %d bytes; the limit is %d bytes ([limits] max_content_bytes)", field, len(s), limit))
	}
	return nil
}
