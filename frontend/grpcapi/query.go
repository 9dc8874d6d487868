package grpcapi

import (
	"context"

	"github.com/engram-go/engram/engine/query"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
)

// ExecuteQuery runs one statement of the query language (docs/query-language.md). A
// syntax error is INVALID_ARGUMENT with its position; PREDICT and IMAGINE
// are UNIMPLEMENTED.
func (s *Server) ExecuteQuery(ctx context.Context, req *pb.QueryRequest) (*pb.QueryResponse, error) {
	return answer[*pb.QueryResponse](ctx)(s.executeQuery(ctx, req))
}

func (s *Server) executeQuery(ctx context.Context, req *pb.QueryRequest) (*pb.QueryResponse, error) {
	sp, _, err := s.readSpace(ctx, req.GetMemorySpaceId())
	if err != nil {
		return nil, err
	}
	if req.GetQueryText() == "" {
		return nil, invalid("query_text is required")
	}
	q, err := query.Parse(req.GetQueryText())
	if err != nil {
		return nil, err
	}
	res, err := query.Execute(ctx, sp, q)
	if err != nil {
		return nil, err
	}
	out := &pb.QueryResponse{TotalCount: int32(len(res.Hits)), ExecutionTimeMs: res.Took.Milliseconds()}
	scores := make([]float64, len(res.Hits))
	for i := range res.Hits {
		h := &res.Hits[i]
		out.Episodes = append(out.Episodes, episodeToPB(&h.Memory))
		out.Confidences = append(out.Confidences, h.Score)
		scores[i] = float64(h.Score)
	}
	ci := frontend.Interval95(float64(res.Confidence), scores)
	out.AggregateConfidence = &pb.ConfidenceInterval{LowerBound: float32(ci.Lower), Mean: float32(ci.Point),
		UpperBound: float32(ci.Upper), ConfidenceLevel: 0.95}
	return out, nil
}
