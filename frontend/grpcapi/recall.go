package grpcapi

import (
	"context"
	"fmt"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc"
)

// recallPlan is a RecallRequest checked and turned into the engine's cue.
type recallPlan struct {
	cue           engine.Cue
	minSimilarity float32 // EmbeddingCue.similarity_threshold, applied to direct matches
	metadata      bool
}

// planRecall validates a request. Cue types the engine cannot answer are UNIMPLEMENTED.
func planRecall(req *pb.RecallRequest) (recallPlan, error) {
	c := req.GetCue()
	if c == nil {
		return recallPlan{}, invalid("cue is required")
	}
	p := recallPlan{metadata: req.GetIncludeMetadata()}
	p.cue = engine.Cue{
		Trace:          req.GetTraceActivation(),
		WithEmbeddings: true,
		Threshold:      engine.DefaultRecallThreshold,
		Mode:           engine.ModeSimilarity,
	}
	if c.GetSpreadActivation() {
		p.cue.Mode = engine.ModeHybrid
	}
	if t := c.GetThreshold(); t != nil {
		if v := t.GetValue(); !(v >= 0 && v <= 1) {
			return recallPlan{}, invalid("cue.threshold.value must be a number between 0 and 1")
		}
		p.cue.Threshold = t.GetValue()
	}
	limit := req.GetMaxResults()
	if limit == 0 {
		limit = c.GetMaxResults()
	}
	if limit < 0 || limit > engine.MaxMaxResults {
		return recallPlan{}, invalid("max_results must be 1-%d", engine.MaxMaxResults)
	}
	p.cue.MaxResults = int(limit)
	var err error
	if p.cue.From, err = timeFromPB("from_time", req.GetFromTime()); err != nil {
		return recallPlan{}, err
	}
	if p.cue.To, err = timeFromPB("to_time", req.GetToTime()); err != nil {
		return recallPlan{}, err
	}
	switch t := c.GetCueType().(type) {
	case *pb.Cue_Embedding:
		if len(t.Embedding.GetVector()) == 0 {
			return recallPlan{}, invalid("cue.embedding.vector must not be empty")
		}
		p.cue.Embedding = t.Embedding.GetVector()
		if v := t.Embedding.GetSimilarityThreshold(); !(v >= 0 && v <= 1) {
			return recallPlan{}, invalid("cue.embedding.similarity_threshold must be a number between 0 and 1")
		}
		p.minSimilarity = t.Embedding.GetSimilarityThreshold()
	case *pb.Cue_Semantic:
		p.cue.Query = t.Semantic.GetQuery()
		p.cue.RequiredTags = t.Semantic.GetRequiredTags()
		p.cue.ExcludedTags = t.Semantic.GetExcludedTags()
		if p.cue.Query == "" {
			return recallPlan{}, invalid("cue.semantic.query must not be empty")
		}
	case *pb.Cue_Context:
		return recallPlan{}, unimplemented("recall by a context cue (use a semantic or embedding cue with from_time/to_time)")
	case *pb.Cue_Temporal:
		return recallPlan{}, unimplemented("recall by a temporal cue (use a semantic or embedding cue with from_time/to_time)")
	case *pb.Cue_Pattern:
		return recallPlan{}, unimplemented("recall by a pattern cue")
	default:
		return recallPlan{}, invalid("cue.cue_type is required: set cue.embedding or cue.semantic")
	}
	return p, nil
}

// recall answers one request.
func (s *Server) recall(ctx context.Context, req *pb.RecallRequest) (*pb.RecallResponse, error) {
	sp, _, err := s.readSpace(ctx, req.GetMemorySpaceId())
	if err != nil {
		return nil, err
	}
	p, err := planRecall(req)
	if err != nil {
		return nil, err
	}
	if sp == nil {
		// The space does not exist (and reads never create one): an empty space answers.
		return recallResponse(&p, &engine.RecallResult{}, time.Now()), nil
	}
	res, err := sp.Recall(ctx, p.cue)
	if err != nil {
		return nil, err
	}
	return recallResponse(&p, &res, time.Now()), nil
}

// recallResponse flattens the engine's answer: vivid, then associated, then reconstructed.
func recallResponse(p *recallPlan, res *engine.RecallResult, now time.Time) *pb.RecallResponse {
	out := &pb.RecallResponse{}
	kept := map[string]bool{}
	var scores []float32
	var activationSum float32
	var spreadPath []string
	dropped := false
	for _, group := range []struct {
		name string
		hits []engine.Hit
	}{{"vivid", res.Vivid}, {"associated", res.Associated}, {"reconstructed", res.Reconstructed}} {
		for i := range group.hits {
			h := &group.hits[i]
			if h.Direct && h.Similarity < p.minSimilarity {
				dropped = true
				continue
			}
			m := memoryToPB(&h.Memory)
			m.Activation = h.Activation
			if p.metadata {
				m.Metadata = hitMetadata(h, group.name)
			}
			out.Memories = append(out.Memories, m)
			kept[h.Memory.ID] = true
			scores = append(scores, h.Score)
			activationSum += h.Activation
			if !h.Direct && spreadPath == nil && len(h.Path) > 1 {
				spreadPath = h.Path
			}
		}
	}
	conf := res.Confidence
	if dropped {
		// similarity_threshold removed direct matches: the confidence is of what is returned.
		conf = engine.AnswerConfidence(scores)
	}
	out.RecallConfidence = confidencePB(conf, fmt.Sprintf("computed from the scores of %d returned memories", len(scores)))
	if p.metadata {
		md := &pb.RecallMetadata{
			TotalActivated: int32(res.Searched),
			AboveThreshold: int32(len(scores)),
			RecallTimeMs:   res.Took.Milliseconds(),
			ActivationPath: spreadPath,
		}
		if len(scores) > 0 {
			md.AvgActivation = activationSum / float32(len(scores))
		}
		out.Metadata = md
	}
	for _, t := range res.Traces {
		if kept[t.MemoryID] {
			out.Traces = append(out.Traces, &pb.ActivationTrace{
				MemoryId:        t.MemoryID,
				ActivationLevel: t.Activation,
				ActivationPath:  t.Path,
				Timestamp:       timestampPB(now),
			})
		}
	}
	return out
}

// Recall retrieves memories for an embedding or semantic cue.
func (s *Server) Recall(ctx context.Context, req *pb.RecallRequest) (*pb.RecallResponse, error) {
	out, err := s.recall(ctx, req)
	if err != nil {
		return nil, rpcError(ctx, err)
	}
	return out, nil
}

// StreamingRecall answers every request with one response, in order; a failed recall is
// reported in its response's error field. An item whose space another node serves is
// answered by that node.
func (s *Server) StreamingRecall(stream grpc.BidiStreamingServer[pb.RecallRequest, pb.RecallResponse]) error {
	ctx := stream.Context()
	reqs, recvErr := readAhead(ctx, stream.Recv)
	for {
		var req *pb.RecallRequest
		select {
		case <-s.done: // checked first: requests keep arriving while the server stops
			return errShuttingDown
		default:
		}
		select {
		case r, open := <-reqs:
			if !open {
				return endOfStream(recvErr)
			}
			req = r
		case <-s.done:
			return errShuttingDown
		}
		if err := stream.Send(s.recallItem(ctx, req)); err != nil {
			return err
		}
	}
}
