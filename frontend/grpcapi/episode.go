package grpcapi

import (
	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
)

// episodeToPB presents a stored memory as an Episode: what is its content, when its
// observation time, and the context fields when it was remembered as an episode.
func episodeToPB(m *engine.Memory) *pb.Episode {
	e := &pb.Episode{
		Id:                 m.ID,
		When:               timestampPB(m.ObservedAt),
		What:               m.Content,
		Embedding:          m.Embedding,
		EncodingConfidence: confidencePB(m.Confidence, ""),
		Tags:               m.Tags,
	}
	if ep := m.Episode; ep != nil {
		e.WhereLocation, e.Who, e.Why, e.How = ep.Where, ep.Who, ep.Why, ep.How
		e.EmotionalValence, e.Importance = ep.EmotionalValence, ep.Importance
	}
	return e
}
