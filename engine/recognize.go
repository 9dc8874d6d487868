package engine

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// DefaultRecognitionThreshold is the familiarity from which an input counts as recognized.
const DefaultRecognitionThreshold = 0.7

// recognizeCandidates is how many of the most similar memories a recognition reports.
const recognizeCandidates = 5

// Recognition is the answer to "have I seen this before?".
type Recognition struct {
	Recognized  bool
	Threshold   float32 // the familiarity it took, after the default
	Familiarity float32 // the best direct similarity of a stored memory to the input, 0..1
	Similar     []Hit   // the most similar memories, most similar first
}

// Recognize measures how familiar a text or vector is: its direct similarity (vector and
// lexical, as recall scores a direct match) to the most similar memories of the space. It
// records no access. threshold 0 means DefaultRecognitionThreshold.
func (s *Space) Recognize(ctx context.Context, query string, embedding []float32, threshold float32) (Recognition, error) {
	if threshold == 0 {
		threshold = DefaultRecognitionThreshold
	}
	if !(threshold > 0 && threshold <= 1) {
		return Recognition{}, fmt.Errorf("%w: recognition_threshold must be in (0, 1]", ErrInvalidInput)
	}
	res, err := s.Recall(ctx, Cue{Query: query, Embedding: embedding, Mode: ModeSimilarity,
		MaxResults: recognizeCandidates, NoReinforce: true, WithEmbeddings: true})
	if err != nil {
		return Recognition{}, err
	}
	out := Recognition{Threshold: threshold}
	for _, group := range [][]Hit{res.Vivid, res.Associated, res.Reconstructed} {
		for _, h := range group {
			if h.Direct && h.Similarity > 0 {
				out.Similar = append(out.Similar, h)
			}
		}
	}
	slices.SortStableFunc(out.Similar, func(a, b Hit) int { return cmp.Compare(b.Similarity, a.Similarity) })
	if len(out.Similar) > 0 {
		out.Familiarity = min(1, out.Similar[0].Similarity)
	}
	out.Recognized = out.Familiarity >= threshold
	return out, nil
}
