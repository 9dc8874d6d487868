package grpcapi

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ListSpaces lists every memory space the caller's key may touch, sorted by id. In a
// cluster: every space of the cluster, those served elsewhere as their owners' ListSpaces
// answer them (docs/cluster.md, "Listing spaces").
func (s *Server) ListSpaces(ctx context.Context, _ *pb.ListSpacesRequest) (*pb.ListSpacesResponse, error) {
	l, err := frontend.ListSpaces(ctx, &s.opts, incoming(ctx, frontend.ForwardedByMetadata),
		func(id string) bool { return s.maySpace(ctx, id) == nil })
	if err != nil {
		return nil, rpcError(ctx, err)
	}
	out := &pb.ListSpacesResponse{}
	for _, sp := range l.Local {
		out.Spaces = append(out.Spaces, spaceInfo(sp))
	}
	if len(l.Remote) == 0 {
		return out, nil
	}
	remote, err := frontend.Gather(ctx, l, func(ctx context.Context, o frontend.Owner) ([]*pb.SpaceInfo, error) {
		resp := &pb.ListSpacesResponse{}
		err := s.invokeOwner(ctx, &frontend.Forward{Space: l.Remote[o][0], Owner: o}, methodListSpaces, &pb.ListSpacesRequest{}, resp)
		return resp.GetSpaces(), err
	}, (*pb.SpaceInfo).GetId)
	if err != nil {
		return nil, err
	}
	out.Spaces = append(out.Spaces, remote...)
	slices.SortFunc(out.Spaces, func(a, b *pb.SpaceInfo) int { return strings.Compare(a.GetId(), b.GetId()) })
	return out, nil
}

// CreateSpace creates a space with optional settings; an existing space is returned
// unchanged with created = false.
func (s *Server) CreateSpace(ctx context.Context, req *pb.CreateSpaceRequest) (*pb.CreateSpaceResponse, error) {
	out, err := s.createSpace(ctx, req)
	if err != nil {
		return nil, rpcError(ctx, err)
	}
	return out, nil
}

func (s *Server) createSpace(ctx context.Context, req *pb.CreateSpaceRequest) (*pb.CreateSpaceResponse, error) {
	if req.GetId() == "" {
		return nil, invalid("id is required")
	}
	id, err := engine.NormalizeSpaceID(req.GetId())
	if err != nil {
		return nil, err
	}
	if err := s.maySpace(ctx, id); err != nil {
		return nil, err
	}
	settings, err := settingsFromPB(req.GetSettings())
	if err != nil {
		return nil, err
	}
	sp, created, err := s.eng.CreateSpace(id, settings)
	if err != nil {
		return nil, err
	}
	return &pb.CreateSpaceResponse{Space: spaceInfo(sp), Created: created}, nil
}

func settingsFromPB(p *pb.SpaceSettings) (engine.SpaceSettings, error) {
	if p == nil {
		return engine.SpaceSettings{}, nil
	}
	for _, c := range []struct {
		name string
		v    int64
	}{{"hot_capacity", p.GetHotCapacity()}, {"warm_capacity", p.GetWarmCapacity()}, {"cold_capacity", p.GetColdCapacity()}} {
		if c.v < 0 {
			return engine.SpaceSettings{}, invalid("settings.%s must not be negative", c.name)
		}
	}
	if r := p.GetRateLimit(); !(r >= 0 && !math.IsInf(r, 1)) {
		return engine.SpaceSettings{}, invalid("settings.rate_limit must be a finite number, at least 0")
	}
	return engine.SpaceSettings{
		HotCapacity:  int(p.GetHotCapacity()),
		WarmCapacity: int(p.GetWarmCapacity()),
		ColdCapacity: int(p.GetColdCapacity()),
		Dimension:    int(p.GetDimension()),
		RateLimit:    p.GetRateLimit(),
		WALSync:      p.GetWalSync(),
	}, nil
}

func spaceInfo(sp *engine.Space) *pb.SpaceInfo {
	set := sp.Settings()
	return &pb.SpaceInfo{
		Id:              sp.ID(),
		Memories:        int64(sp.Stats().Memories),
		CreatedAt:       timestampPB(sp.CreatedAt()),
		PersistenceRoot: sp.Dir(),
		Settings: &pb.SpaceSettings{
			HotCapacity:  int64(set.HotCapacity),
			WarmCapacity: int64(set.WarmCapacity),
			ColdCapacity: int64(set.ColdCapacity),
			Dimension:    int32(set.Dimension),
			RateLimit:    set.RateLimit,
			WalSync:      set.WALSync,
		},
	}
}

// Health reports every space the caller may touch, or only the space chosen by the
// x-memory-space metadata or memory_space_id (none for a space that does not exist). A
// server that is stopping or whose engine is closed answers UNAVAILABLE, the gRPC
// spelling of HTTP's 503.
func (s *Server) Health(ctx context.Context, req *pb.HealthRequest) (*pb.HealthResponse, error) {
	if err := s.unhealthy(); err != nil {
		return nil, err
	}
	out := &pb.HealthResponse{
		Status:        "healthy",
		Timestamp:     timestamppb.Now(),
		Version:       s.opts.Version,
		UptimeSeconds: time.Since(s.opts.Started).Seconds(),
	}
	if headerSpace(ctx) != "" || req.GetMemorySpaceId() != "" {
		sp, _, err := s.readSpace(ctx, req.GetMemorySpaceId())
		if err != nil {
			return nil, rpcError(ctx, err)
		}
		if sp != nil {
			out.Spaces = []*pb.SpaceHealth{markFailed(out, sp.Stats())}
		}
		return out, nil
	}
	for _, sp := range s.eng.Spaces() {
		if s.maySpace(ctx, sp.ID()) == nil {
			out.Spaces = append(out.Spaces, markFailed(out, sp.Stats()))
		}
	}
	return out, nil
}

// markFailed turns the answer's status to "unhealthy" when a space's log has failed (as
// the HTTP health route does) and returns the space's entry.
func markFailed(out *pb.HealthResponse, st engine.Stats) *pb.SpaceHealth {
	if st.Failed {
		out.Status = "unhealthy"
	}
	return spaceHealth(st)
}

// unhealthy explains why the server cannot serve, or is nil.
func (s *Server) unhealthy() error {
	select {
	case <-s.done:
		return status.Error(codes.Unavailable, "unhealthy: the server is shutting down")
	default:
	}
	if _, err := s.eng.Space(engine.DefaultSpace); errors.Is(err, engine.ErrClosed) {
		return status.Error(codes.Unavailable, "unhealthy: the engine is closed")
	}
	return nil
}

func spaceHealth(st engine.Stats) *pb.SpaceHealth {
	return &pb.SpaceHealth{
		Space:             st.ID,
		Memories:          int64(st.Memories),
		Pressure:          st.Pressure,
		WalLagMs:          float64(st.WALLag) / float64(time.Millisecond),
		ConsolidationRate: st.ConsolidationRate,
		Tiers:             &pb.TierCounts{Hot: int64(st.Hot), Warm: int64(st.Warm), Cold: int64(st.Cold)},
	}
}
