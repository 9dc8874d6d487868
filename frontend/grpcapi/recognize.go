package grpcapi

import (
	"context"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
)

// Recognize answers whether an input (a memory's content and embedding, a bare embedding,
// or a content) is familiar: its similarity to the most similar stored memories.
func (s *Server) Recognize(ctx context.Context, req *pb.RecognizeRequest) (*pb.RecognizeResponse, error) {
	return answer[*pb.RecognizeResponse](ctx)(s.recognize(ctx, req))
}

func (s *Server) recognize(ctx context.Context, req *pb.RecognizeRequest) (*pb.RecognizeResponse, error) {
	sp, _, err := s.readSpace(ctx, req.GetMemorySpaceId())
	if err != nil {
		return nil, err
	}
	var content string
	var emb []float32
	switch in := req.GetInput().(type) {
	case *pb.RecognizeRequest_Memory:
		content, emb = in.Memory.GetContent(), in.Memory.GetEmbedding()
	case *pb.RecognizeRequest_Embedding:
		emb = in.Embedding.GetValues()
	case *pb.RecognizeRequest_Content:
		content = in.Content
	}
	if content == "" && len(emb) == 0 {
		return nil, invalid("input is required: set content, embedding.values or memory (content or embedding)")
	}
	t := req.GetRecognitionThreshold()
	if !(t >= 0 && t <= 1) {
		return nil, invalid("recognition_threshold must be between 0 and 1")
	}
	var r engine.Recognition
	if sp != nil {
		if r, err = sp.Recognize(ctx, content, emb, t); err != nil {
			return nil, err
		}
	}
	out := &pb.RecognizeResponse{Recognized: r.Recognized, FamiliarityScore: r.Familiarity,
		RecognitionConfidence: confidencePB(r.Familiarity, frontend.RecognitionReason(&r))}
	for i := range r.Similar {
		m := memoryToPB(&r.Similar[i].Memory)
		m.Activation = r.Similar[i].Similarity
		out.SimilarMemories = append(out.SimilarMemories, m)
	}
	return out, nil
}
