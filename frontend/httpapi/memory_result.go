package httpapi

import (
	"fmt"
	"strings"

	"github.com/engram-go/engram/engine"
)

// confidenceInfo is the ConfidenceInfo shape {value, category, reasoning}.
type confidenceInfo struct {
	Value     float32 `json:"value"`
	Category  string  `json:"category"`
	Reasoning string  `json:"reasoning"`
}

func newConfidence(v float32, reasoning string) confidenceInfo {
	v = finite32(v)
	return confidenceInfo{Value: v, Category: engine.ConfidenceCategory(v), Reasoning: reasoning}
}

// memoryResult is the MemoryResult shape of SPEC §2.
type memoryResult struct {
	ID                   string         `json:"id"`
	Content              string         `json:"content"`
	Confidence           confidenceInfo `json:"confidence"`
	ActivationLevel      float32        `json:"activation_level"`
	SimilarityScore      float32        `json:"similarity_score"`
	RetrievalPath        string         `json:"retrieval_path"`
	ObservedAt           jsonTime       `json:"observed_at"`
	LastAccess           jsonTime       `json:"last_access"` // null when never recalled before
	Tags                 []string       `json:"tags"`
	MemoryType           string         `json:"memory_type"`
	RelevanceExplanation string         `json:"relevance_explanation"`
}

// kind of a hit, for the explanation and the evidence chain.
type hitKind uint8

const (
	hitDirect hitKind = iota
	hitSpreading
	hitConsolidated
)

func kindOf(h *engine.Hit) hitKind {
	switch {
	case h.Memory.Type == engine.Semantic && len(h.Memory.Citations) > 0:
		return hitConsolidated
	case h.Direct:
		return hitDirect
	}
	return hitSpreading
}

func newMemoryResult(h *engine.Hit) memoryResult {
	m := &h.Memory
	tags := m.Tags
	if tags == nil {
		tags = []string{}
	}
	return memoryResult{
		ID:                   m.ID,
		Content:              m.Content,
		Confidence:           newConfidence(m.Confidence, "The confidence stored with this memory."),
		ActivationLevel:      finite32(h.Activation),
		SimilarityScore:      finite32(h.Similarity),
		RetrievalPath:        retrievalPath(h),
		ObservedAt:           jsonTime(m.ObservedAt),
		LastAccess:           jsonTime(m.LastAccess),
		Tags:                 tags,
		MemoryType:           m.Type.String(),
		RelevanceExplanation: explain(h),
	}
}

// retrievalPath is "direct" for a direct match, else "spreading: a -> b".
func retrievalPath(h *engine.Hit) string {
	if h.Direct {
		return "direct"
	}
	return "spreading: " + strings.Join(h.Path, " -> ")
}

func explain(h *engine.Hit) string {
	switch kindOf(h) {
	case hitConsolidated:
		return fmt.Sprintf("Consolidated memory built from %d episodes; similarity %.2f, score %.2f.",
			len(h.Memory.Citations), h.Similarity, h.Score)
	case hitDirect:
		return fmt.Sprintf("Direct match: similarity %.2f to the cue; score %.2f after retention and confidence.",
			h.Similarity, h.Score)
	}
	from := ""
	if len(h.Path) > 0 {
		from = " from " + h.Path[0]
	}
	hops := max(len(h.Path)-1, 1)
	return fmt.Sprintf("Reached by spreading activation over %d association hop(s)%s; activation %.2f (direct similarity %.2f), score %.2f.",
		hops, from, h.Activation, h.Similarity, h.Score)
}

func memoryResults(hits []engine.Hit) []memoryResult {
	out := make([]memoryResult, len(hits))
	for i := range hits {
		out[i] = newMemoryResult(&hits[i])
	}
	return out
}
