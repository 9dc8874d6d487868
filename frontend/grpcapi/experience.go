package grpcapi

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
)

// Experience stores an episode, as Remember does, then associates it with each of its
// context_links (memories of the same space, checked before anything is stored). With
// immediate_consolidation it runs consolidation of the space at once, the new episode
// eligible, and answers CONSOLIDATED when the episode was consolidated.
func (s *Server) Experience(ctx context.Context, req *pb.ExperienceRequest) (*pb.ExperienceResponse, error) {
	return answer[*pb.ExperienceResponse](ctx)(s.experience(ctx, req))
}

func (s *Server) experience(ctx context.Context, req *pb.ExperienceRequest) (*pb.ExperienceResponse, error) {
	if req.GetEpisode() == nil {
		return nil, invalid("episode is required")
	}
	it := s.prepareRemember(ctx, &pb.RememberRequest{MemorySpaceId: req.GetMemorySpaceId(),
		MemoryType: &pb.RememberRequest_Episode{Episode: req.GetEpisode()}})
	if it.err != nil {
		return nil, it.err
	}
	links := slices.Compact(slices.Sorted(slices.Values(req.GetContextLinks())))
	for _, id := range links {
		if err := engine.ValidateID(id); err != nil {
			return nil, invalid("context_links: %v", err)
		}
		if id == it.mem.ID {
			return nil, invalid("context_links names the episode itself (%q)", id)
		}
		if _, err := it.sp.Get(id); err != nil {
			return nil, err
		}
	}
	res, err := it.sp.Remember(ctx, it.mem, it.opts)
	if err != nil {
		return nil, err
	}
	ep := res.Memory
	out := &pb.ExperienceResponse{EpisodeId: ep.ID, State: pb.ConsolidationState_CONSOLIDATION_STATE_RECENT,
		EncodingQuality: confidencePB(ep.Confidence, "encoding confidence of the stored episode")}
	for _, id := range links {
		// A context memory forgotten since the check is skipped: the count says so.
		_, err := it.sp.Associate(ctx, ep.ID, id, engine.DefaultAssociationStrength)
		switch {
		case err == nil:
			out.ContextLinksCreated++
		case !errors.Is(err, engine.ErrNotFound):
			return nil, err
		}
	}
	if req.GetImmediateConsolidation() {
		cutoff := time.Now().Add(time.Second)
		if ep.ObservedAt.After(cutoff) {
			cutoff = ep.ObservedAt.Add(time.Second)
		}
		formed, err := it.sp.ConsolidateBefore(ctx, cutoff)
		if err != nil {
			return nil, err
		}
		for i := range formed {
			if slices.Contains(formed[i].Citations, ep.ID) {
				out.State = pb.ConsolidationState_CONSOLIDATION_STATE_CONSOLIDATED
			}
		}
	}
	return out, nil
}
