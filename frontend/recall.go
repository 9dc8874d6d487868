package frontend

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/engram-go/engram/engine"
)

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
