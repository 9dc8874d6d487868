package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc"
)

// Dream bounds.
const (
	defaultReplayCycles = 3
	maxReplayCycles     = 20
	replayLength        = 8 // episodes per replayed sequence
	narrativeRunes      = 40
)

// Dream replays the chosen space's episodes and streams what it finds (docs/grpc.md): one
// ReplaySequence per cycle (consecutive episodes in the order they happened, with how new
// their succession is to the association graph), then, with generate_insights, one
// Insight per semantic memory consolidation forms, and a final ConsolidationProgress. The
// stream is bounded by replay_cycles (at most 20) and ends by itself.
func (s *Server) Dream(req *pb.DreamRequest, stream grpc.ServerStreamingServer[pb.DreamResponse]) error {
	ctx := stream.Context()
	if err := s.dream(ctx, req, stream); err != nil {
		return rpcError(ctx, err)
	}
	return nil
}

func (s *Server) dream(ctx context.Context, req *pb.DreamRequest, stream grpc.ServerStreamingServer[pb.DreamResponse]) error {
	sp, _, err := s.readSpace(ctx, req.GetMemorySpaceId())
	if err != nil {
		return err
	}
	cycles := int(req.GetReplayCycles())
	if cycles == 0 {
		cycles = defaultReplayCycles
	}
	if cycles < 0 || cycles > maxReplayCycles {
		return invalid("replay_cycles must be 1-%d", maxReplayCycles)
	}
	if f := req.GetCreativityFactor(); !(f >= 0 && f <= 1) {
		return invalid("creativity_factor must be between 0 and 1")
	}
	progress := &pb.ConsolidationProgress{}
	if sp != nil {
		eps, err := sp.Reminisce(ctx, engine.EpisodeQuery{From: time.Unix(0, 0).UTC(), Limit: cycles * replayLength})
		if err != nil {
			return err
		}
		for start := 0; start < len(eps); start += replayLength {
			seq := eps[start:min(start+replayLength, len(eps))]
			replay, err := replaySequence(sp, seq)
			if err != nil {
				return err
			}
			if err := stream.Send(&pb.DreamResponse{Content: &pb.DreamResponse_Replay{Replay: replay}}); err != nil {
				return err
			}
			progress.MemoriesReplayed += int32(len(seq))
		}
		if req.GetGenerateInsights() {
			formed, err := sp.ConsolidateBefore(ctx, time.Time{})
			if err != nil {
				return err
			}
			var strength float32
			for i := range formed {
				m := &formed[i]
				ins := &pb.Insight{
					Description:       fmt.Sprintf("%d episodes share one pattern: %q", len(m.Citations), clipRunes(m.Content, 80)),
					ConnectedMemories: m.Citations,
					InsightConfidence: confidencePB(m.Confidence, "mean confidence of the episodes consolidated"),
					SuggestedAction:   "RECALL " + m.ID,
				}
				if err := stream.Send(&pb.DreamResponse{Content: &pb.DreamResponse_Insight{Insight: ins}}); err != nil {
					return err
				}
				progress.NewConnections += int32(len(m.Citations))
				strength += m.Confidence
			}
			if len(formed) > 0 {
				progress.ConsolidationStrength = strength / float32(len(formed))
			}
		}
	}
	return stream.Send(&pb.DreamResponse{Content: &pb.DreamResponse_Progress{Progress: progress}})
}

// replaySequence describes one replayed run of episodes. Its novelty is one minus the
// mean weight of the association edges between successive episodes: 0 when every step is
// a strong existing association, 1 when none is linked.
func replaySequence(sp *engine.Space, seq []engine.RecalledEpisode) (*pb.ReplaySequence, error) {
	out := &pb.ReplaySequence{}
	steps := make([]string, len(seq))
	var linked float32
	for i := range seq {
		m := &seq[i].Memory
		out.MemoryIds = append(out.MemoryIds, m.ID)
		steps[i] = clipRunes(m.Content, narrativeRunes)
		if i == 0 {
			continue
		}
		edges, err := sp.Associations(seq[i-1].Memory.ID)
		if errors.Is(err, engine.ErrNotFound) {
			continue // forgotten since it was read: no edge
		}
		if err != nil {
			return nil, err
		}
		for _, e := range edges {
			if e.TargetID == m.ID {
				linked += e.Weight
				break
			}
		}
	}
	out.SequenceNovelty = 1
	if len(seq) > 1 {
		out.SequenceNovelty = 1 - linked/float32(len(seq)-1)
	}
	out.Narrative = strings.Join(steps, " → ")
	return out, nil
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
