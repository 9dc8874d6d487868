package grpcapi

import (
	"context"
	"time"

	"github.com/engram-go/engram/frontend/grpcapi/pb"
)

// Consolidate runs consolidation of the chosen space now: clusters of similar episodes
// observed before the cutoff become semantic memories citing them (docs/consolidation.md).
// target all (or unset) uses the configured minimum age; criteria.older_than sets the
// cutoff. Selecting episodes by id, importance or type, and the synaptic and
// reconsolidation modes, are UNIMPLEMENTED.
func (s *Server) Consolidate(ctx context.Context, req *pb.ConsolidateRequest) (*pb.ConsolidateResponse, error) {
	return answer[*pb.ConsolidateResponse](ctx)(s.consolidate(ctx, req))
}

func (s *Server) consolidate(ctx context.Context, req *pb.ConsolidateRequest) (*pb.ConsolidateResponse, error) {
	sp, _, err := s.readSpace(ctx, req.GetMemorySpaceId())
	if err != nil {
		return nil, err
	}
	switch req.GetMode() {
	case pb.ConsolidationMode_CONSOLIDATION_MODE_UNSPECIFIED, pb.ConsolidationMode_CONSOLIDATION_MODE_SYSTEMS:
	default:
		return nil, unimplemented("consolidation mode " + req.GetMode().String() + " (systems consolidation is what this server does)")
	}
	var cutoff time.Time
	switch t := req.GetTarget().(type) {
	case nil, *pb.ConsolidateRequest_All:
	case *pb.ConsolidateRequest_MemoryIds:
		return nil, unimplemented("consolidating chosen memory ids (use all or criteria.older_than)")
	case *pb.ConsolidateRequest_Criteria:
		c := t.Criteria
		if c.GetImportanceThreshold() != 0 || len(c.GetTypes()) > 0 {
			return nil, unimplemented("consolidation criteria importance_threshold and types (only older_than)")
		}
		if cutoff, err = timeFromPB("criteria.older_than", c.GetOlderThan()); err != nil {
			return nil, err
		}
	}
	out := &pb.ConsolidateResponse{StateChanges: map[string]pb.ConsolidationState{}}
	if sp == nil {
		return out, nil
	}
	formed, err := sp.ConsolidateBefore(ctx, cutoff)
	if err != nil {
		return nil, err
	}
	for i := range formed {
		for _, ep := range formed[i].Citations {
			out.StateChanges[ep] = pb.ConsolidationState_CONSOLIDATION_STATE_CONSOLIDATED
		}
		m := memoryToPB(&formed[i])
		m.Metadata = map[string]string{"citations": jsonList(formed[i].Citations)}
		out.Formed = append(out.Formed, m)
		out.MemoriesConsolidated += int32(len(formed[i].Citations))
		out.NewAssociations += int32(len(formed[i].Citations))
	}
	return out, nil
}
