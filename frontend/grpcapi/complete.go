package grpcapi

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
)

// Complete fills the missing fields of a partial episode from the chosen space's memories
// (docs/grpc.md). INVALID_ARGUMENT, with reason MEMORY_VALIDATION_ERROR, when nothing
// stored supports any of them.
func (s *Server) Complete(ctx context.Context, req *pb.CompleteRequest) (*pb.CompleteResponse, error) {
	return answer[*pb.CompleteResponse](ctx)(s.complete(ctx, req))
}

func (s *Server) complete(ctx context.Context, req *pb.CompleteRequest) (*pb.CompleteResponse, error) {
	sp, id, err := s.readSpace(ctx, req.GetMemorySpaceId())
	if err != nil {
		return nil, err
	}
	pp := req.GetPartialPattern()
	if len(pp.GetFragments()) != 1 {
		return nil, invalid("partial_pattern.fragments must hold one partial episode, got %d", len(pp.GetFragments()))
	}
	if n := req.GetMaxCompletions(); n < 0 || n > 100 {
		return nil, invalid("max_completions must be 0-100")
	}
	frag := pp.GetFragments()[0]
	creq := engine.CompletionRequest{Known: frag.GetKnownFields(), Missing: frag.GetMissingFields(),
		Embedding: req.GetEmbedding(), Threshold: pp.GetCompletionThreshold()}
	if sp == nil {
		if err := creq.Validate(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: space %q holds no memories", engine.ErrInsufficientEvidence, id)
	}
	c, err := sp.Complete(ctx, creq)
	if err != nil {
		return nil, err
	}
	out := &pb.CompleteResponse{FieldConfidences: map[string]float32{}, UnresolvedFields: c.Unresolved,
		CompletionConfidence: confidencePB(c.Confidence, fmt.Sprintf("Mean confidence of the %d fields filled over the %d asked for.",
			len(c.Fields), len(c.Fields)+len(c.Unresolved)))}
	best := map[string]string{}
	for k, v := range frag.GetKnownFields() {
		best[engine.CanonicalField(k)] = strings.TrimSpace(v)
	}
	type hypothesis struct {
		field string
		alt   engine.FieldValue
		conf  float32
	}
	var alts []hypothesis
	for i := range c.Fields {
		f := &c.Fields[i]
		best[f.Field] = f.Value
		out.FieldConfidences[f.Field] = f.Confidence
		fc := &pb.FieldCompletion{Field: f.Field, Value: f.Value, Confidence: f.Confidence, Source: f.Source, SourceMemories: f.Memories}
		for _, a := range f.Alternatives {
			fc.Alternatives = append(fc.Alternatives, &pb.FieldAlternative{Value: a.Value, Confidence: a.Confidence, Source: a.Source, SourceMemories: a.Memories})
			alts = append(alts, hypothesis{f.Field, a, c.Confidence * a.Confidence / f.Confidence})
		}
		out.Fields = append(out.Fields, fc)
	}
	// The completion itself, then alternative hypotheses: the completion with one field
	// taking a runner-up value, most confident first.
	out.Completions = append(out.Completions, completionMemory(best, c.Confidence))
	slices.SortStableFunc(alts, func(a, b hypothesis) int { return cmp.Compare(b.conf, a.conf) })
	limit := int(req.GetMaxCompletions())
	if limit == 0 {
		limit = 4
	}
	for _, h := range alts[:min(len(alts), limit-1)] {
		fields := map[string]string{}
		for k, v := range best {
			fields[k] = v
		}
		fields[h.field] = h.alt.Value
		out.Completions = append(out.Completions, completionMemory(fields, h.conf))
	}
	return out, nil
}

// completionMemory presents a (hypothetical) completed episode as a Memory: content = what,
// created_at = when, the fields in metadata.
func completionMemory(fields map[string]string, conf float32) *pb.Memory {
	m := &pb.Memory{Content: fields[engine.FieldWhat], Metadata: fields, MemoryType: pb.MemoryType_MEMORY_TYPE_EPISODIC,
		Confidence: confidencePB(conf, "completed from stored memories")}
	if t, err := time.Parse(time.RFC3339Nano, fields[engine.FieldWhen]); err == nil {
		m.CreatedAt = timestampPB(t)
	}
	return m
}
