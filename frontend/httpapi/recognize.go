package httpapi

import (
	"context"
	"net/http"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

type recognizeAnswer struct {
	Recognized            bool           `json:"recognized"`
	RecognitionConfidence confidenceInfo `json:"recognition_confidence"`
	SimilarMemories       []memoryResult `json:"similar_memories"`
	FamiliarityScore      float32        `json:"familiarity_score"`
	MemorySpaceID         string         `json:"memory_space_id"`
}

// handleRecognize serves POST /api/v1/memories/recognize: is this content or vector
// familiar, and which stored memories is it like? Body: content and/or embedding,
// recognition_threshold.
func (s *Server) handleRecognize(rq *request) error {
	v, err := rq.jsonObject()
	if err != nil {
		return err
	}
	content, err := optString(v, "content")
	if err != nil {
		return err
	}
	emb, err := optEmbedding(v, "embedding")
	if err != nil {
		return err
	}
	threshold, err := optRange(v, "recognition_threshold", 0, 1)
	if err != nil {
		return err
	}
	if content == "" && len(emb) == 0 {
		return invalidInput("content or embedding is required: what should be recognized?")
	}
	sp, id, err := rq.readSpaceOf(v)
	if err != nil {
		return err
	}
	var r engine.Recognition
	if sp != nil {
		if r, err = sp.Recognize(context.Background(), content, emb, threshold); err != nil {
			return err
		}
	}
	a := recognizeAnswer{Recognized: r.Recognized, FamiliarityScore: finite32(r.Familiarity),
		SimilarMemories: memoryResults(r.Similar), MemorySpaceID: id}
	a.RecognitionConfidence = newConfidence(r.Familiarity, frontend.RecognitionReason(&r))
	return writeJSON(rq.ctx, http.StatusOK, &a)
}
