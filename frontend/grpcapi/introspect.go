package grpcapi

import (
	"context"
	"encoding/json"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
)

// Introspect reports the chosen space's live figures (docs/grpc.md): the metrics asked
// for (all when none), and the health and statistics when asked.
func (s *Server) Introspect(ctx context.Context, req *pb.IntrospectRequest) (*pb.IntrospectResponse, error) {
	return answer[*pb.IntrospectResponse](ctx)(s.introspect(ctx, req))
}

func (s *Server) introspect(ctx context.Context, req *pb.IntrospectRequest) (*pb.IntrospectResponse, error) {
	sp, id, err := s.readSpace(ctx, req.GetMemorySpaceId())
	if err != nil {
		return nil, err
	}
	in, err := frontend.Introspect(s.eng, sp, id, req.GetMetrics())
	if err != nil {
		return nil, err
	}
	out := &pb.IntrospectResponse{Metrics: map[string]float32{}, ActiveProcesses: in.ActiveProcesses}
	for k, v := range in.Metrics {
		out.Metrics[k] = float32(v)
	}
	snap, err := json.Marshal(struct {
		Space   string             `json:"memory_space_id"`
		Metrics map[string]float64 `json:"metrics"`
	}{id, in.Metrics})
	if err != nil {
		return nil, err
	}
	out.MetricsSnapshotJson = string(snap)
	if req.GetIncludeHealth() {
		out.Health = &pb.HealthStatus{Healthy: in.Healthy, Summary: in.Summary, Components: map[string]*pb.ComponentHealth{}}
		for name, c := range in.Components {
			out.Health.Components[name] = &pb.ComponentHealth{Operational: c.Operational, Performance: float32(c.Performance), StatusMessage: c.Status}
		}
	}
	if req.GetIncludeStatistics() {
		c := &in.Census
		out.Statistics = &pb.MemoryStatistics{
			TotalMemories: int64(c.Memories), ByType: map[string]int64{},
			AvgActivation: float32(c.AvgRetention), AvgConfidence: float32(c.AvgConfidence),
			TotalAssociations: int64(in.Stats.Edges),
			OldestMemory:      timestampPB(c.Oldest), NewestMemory: timestampPB(c.Newest),
		}
		for _, t := range []engine.MemoryType{engine.Episodic, engine.Semantic, engine.Procedural} {
			out.Statistics.ByType[t.String()] = int64(c.ByType[t])
		}
	}
	return out, nil
}
