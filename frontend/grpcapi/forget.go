package grpcapi

import (
	"context"
	"fmt"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
)

// Forget deletes one memory by id. It answers after the tombstone is durable; the deletion
// survives a restart and cannot be undone. Suppression, overwrite and forgetting by pattern
// are not implemented.
func (s *Server) Forget(ctx context.Context, req *pb.ForgetRequest) (*pb.ForgetResponse, error) {
	out, err := s.forget(ctx, req)
	if err != nil {
		return nil, rpcError(ctx, err)
	}
	return out, nil
}

func (s *Server) forget(ctx context.Context, req *pb.ForgetRequest) (*pb.ForgetResponse, error) {
	sp, id, err := s.readSpace(ctx, req.GetMemorySpaceId())
	if err != nil {
		return nil, err
	}
	switch req.GetMode() {
	case pb.ForgetMode_FORGET_MODE_UNSPECIFIED, pb.ForgetMode_FORGET_MODE_DELETE:
	case pb.ForgetMode_FORGET_MODE_SUPPRESS:
		return nil, unimplemented("FORGET_MODE_SUPPRESS")
	case pb.ForgetMode_FORGET_MODE_OVERWRITE:
		return nil, unimplemented("FORGET_MODE_OVERWRITE")
	default:
		return nil, invalid("mode %d is unknown", int32(req.GetMode()))
	}
	var memoryID string
	switch t := req.GetTarget().(type) {
	case *pb.ForgetRequest_MemoryId:
		memoryID = t.MemoryId
	case *pb.ForgetRequest_Pattern:
		return nil, unimplemented("forgetting by pattern")
	default:
		return nil, invalid("memory_id is required")
	}
	if err := engine.ValidateID(memoryID); err != nil {
		return nil, fmt.Errorf("memory_id: %w", err)
	}
	if sp == nil {
		return nil, fmt.Errorf("%w: %q in space %q", engine.ErrNotFound, memoryID, id)
	}
	if err := sp.Forget(ctx, memoryID); err != nil {
		return nil, err
	}
	return &pb.ForgetResponse{
		MemoriesAffected: 1,
		ForgetConfidence: &pb.Confidence{
			Value:     1,
			Category:  pb.ConfidenceCategory_CONFIDENCE_CATEGORY_CERTAIN,
			Reasoning: "deleted: the tombstone is in the write-ahead log",
		},
		Reversible: false,
	}, nil
}
