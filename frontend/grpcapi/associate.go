package grpcapi

import (
	"context"
	"fmt"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
)

// Associate creates or strengthens the explicit association edge between two memories of
// the chosen space; it answers after the edge is durable (docs/grpc.md).
func (s *Server) Associate(ctx context.Context, req *pb.AssociateRequest) (*pb.AssociateResponse, error) {
	return answer[*pb.AssociateResponse](ctx)(s.associate(ctx, req))
}

func (s *Server) associate(ctx context.Context, req *pb.AssociateRequest) (*pb.AssociateResponse, error) {
	sp, id, err := s.readSpace(ctx, req.GetMemorySpaceId())
	if err != nil {
		return nil, err
	}
	src, dst := req.GetSourceMemory(), req.GetTargetMemory()
	if src == "" || dst == "" {
		return nil, invalid("source_memory and target_memory are required")
	}
	if t := req.GetStrength(); !(t >= 0 && t <= 1) {
		return nil, invalid("strength must be between 0 and 1")
	}
	if _, ok := pb.AssociationType_name[int32(req.GetAssociationType())]; !ok {
		return nil, invalid("association_type %d is not an AssociationType", req.GetAssociationType())
	}
	if sp == nil {
		return nil, fmt.Errorf("%w: %q in space %q", engine.ErrNotFound, src, id)
	}
	if err := s.opts.Limits.AllowRemember(sp, 1); err != nil {
		return nil, err
	}
	a, err := sp.Associate(ctx, src, dst, req.GetStrength())
	if err != nil {
		return nil, err
	}
	return &pb.AssociateResponse{Created: a.Created, FinalStrength: a.Strength, AffectedPaths: []string{src + " -> " + dst}}, nil
}
