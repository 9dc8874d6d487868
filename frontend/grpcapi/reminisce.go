package grpcapi

import (
	"context"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
)

// Reminisce returns the episodes of the chosen space around a time, at a place, with
// people or about a topic, within an optional window (docs/grpc.md).
func (s *Server) Reminisce(ctx context.Context, req *pb.ReminisceRequest) (*pb.ReminisceResponse, error) {
	return answer[*pb.ReminisceResponse](ctx)(s.reminisce(ctx, req))
}

func (s *Server) reminisce(ctx context.Context, req *pb.ReminisceRequest) (*pb.ReminisceResponse, error) {
	sp, _, err := s.readSpace(ctx, req.GetMemorySpaceId())
	if err != nil {
		return nil, err
	}
	var q engine.EpisodeQuery
	switch c := req.GetCue().(type) {
	case *pb.ReminisceRequest_AroundTime:
		if q.Around, err = timeFromPB("around_time", c.AroundTime); err != nil {
			return nil, err
		}
	case *pb.ReminisceRequest_AtLocation:
		q.Where = c.AtLocation
	case *pb.ReminisceRequest_WithPeople:
		q.Who = c.WithPeople.GetPeople()
	case *pb.ReminisceRequest_AboutTopic:
		q.Topic = c.AboutTopic
	}
	if q.From, err = timeFromPB("time_window_start", req.GetTimeWindowStart()); err != nil {
		return nil, err
	}
	if q.To, err = timeFromPB("time_window_end", req.GetTimeWindowEnd()); err != nil {
		return nil, err
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var eps []engine.RecalledEpisode
	if sp != nil {
		if eps, err = sp.Reminisce(ctx, q); err != nil {
			return nil, err
		}
	}
	sum := frontend.SummarizeEpisodes(eps)
	out := &pb.ReminisceResponse{MemoryThemes: sum.Themes,
		RecallVividness: confidencePB(float32(sum.Vividness), sum.Reasoning)}
	for i := range eps {
		out.Episodes = append(out.Episodes, episodeToPB(&eps[i].Memory))
	}
	if req.GetIncludeEmotional() {
		out.EmotionalSummary = map[string]float32{}
		for k, v := range sum.Emotional {
			out.EmotionalSummary[k] = float32(v)
		}
	}
	return out, nil
}
