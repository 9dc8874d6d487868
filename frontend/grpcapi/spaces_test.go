package grpcapi

import (
	"context"
	"testing"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/frontendtest"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

func TestSpacesAndHealth(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	ctx := context.Background()
	created, err := h.client.CreateSpace(ctx, &pb.CreateSpaceRequest{Id: "wide", Settings: &pb.SpaceSettings{Dimension: 16, RateLimit: 50}})
	if err != nil {
		t.Fatal(err)
	}
	if !created.GetCreated() || created.GetSpace().GetId() != "wide" || created.GetSpace().GetSettings().GetDimension() != 16 ||
		created.GetSpace().GetSettings().GetRateLimit() != 50 || created.GetSpace().GetPersistenceRoot() == "" {
		t.Fatalf("create: %v", created)
	}
	again, err := h.client.CreateSpace(ctx, &pb.CreateSpaceRequest{Id: "wide", Settings: &pb.SpaceSettings{Dimension: 32}})
	if err != nil {
		t.Fatal(err)
	}
	if again.GetCreated() || again.GetSpace().GetSettings().GetDimension() != 16 {
		t.Fatalf("create of an existing space: %v", again)
	}
	for _, tc := range []struct {
		name string
		req  *pb.CreateSpaceRequest
	}{
		{"no id", &pb.CreateSpaceRequest{}},
		{"bad id", &pb.CreateSpaceRequest{Id: "Wide"}},
		{"negative capacity", &pb.CreateSpaceRequest{Id: "neg", Settings: &pb.SpaceSettings{HotCapacity: -1}}},
		{"bad sync mode", &pb.CreateSpaceRequest{Id: "sync", Settings: &pb.SpaceSettings{WalSync: "sometimes"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.client.CreateSpace(ctx, tc.req)
			wantCode(t, err, codes.InvalidArgument)
		})
	}

	h.remember(t, withSpace(ctx, "wide"), memoryReq("", "w1", "sixteen dimensions", nil))
	list, err := h.client.ListSpaces(ctx, &pb.ListSpacesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range list.GetSpaces() {
		names = append(names, s.GetId())
		if s.GetId() == "wide" && s.GetMemories() != 1 {
			t.Fatalf("wide: %v", s)
		}
	}
	if len(names) != 2 || names[0] != engine.DefaultSpace || names[1] != "wide" {
		t.Fatalf("spaces %v", names)
	}

	health, err := h.client.Health(ctx, &pb.HealthRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if health.GetStatus() != "healthy" || len(health.GetSpaces()) != 2 || health.GetVersion() != "test" {
		t.Fatalf("health %v", health)
	}
	one, err := h.client.Health(withSpace(ctx, "wide"), &pb.HealthRequest{MemorySpaceId: engine.DefaultSpace})
	if err != nil {
		t.Fatal(err)
	}
	if len(one.GetSpaces()) != 1 || one.GetSpaces()[0].GetSpace() != "wide" || one.GetSpaces()[0].GetMemories() != 1 ||
		one.GetSpaces()[0].GetTiers().GetHot() != 1 || one.GetSpaces()[0].GetPressure() <= 0 {
		t.Fatalf("health of wide: %v", one)
	}
	unknown, err := h.client.Health(ctx, &pb.HealthRequest{MemorySpaceId: "not-yet"})
	if err != nil {
		t.Fatal(err)
	}
	if len(unknown.GetSpaces()) != 0 {
		t.Fatalf("health of an unknown space: %v", unknown)
	}
	_, err = h.client.Health(ctx, &pb.HealthRequest{MemorySpaceId: "Not Valid"})
	wantCode(t, err, codes.InvalidArgument)
}

func TestAuth(t *testing.T) {
	keys := frontendtest.Keys{
		"key-a":   {Name: "a", Spaces: []string{"space-a"}},
		"key-all": {Name: "all", Spaces: []string{"*"}},
	}
	h := newHarness(t, harnessConfig{options: func(o *frontend.Options) { o.Auth = keys }})
	bearer := func(key string) context.Context {
		return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+key)
	}
	req := memoryReq("space-a", "", "guarded", nil)
	for _, tc := range []struct {
		name string
		ctx  context.Context
		req  *pb.RememberRequest
		want codes.Code
	}{
		{"no key", context.Background(), req, codes.Unauthenticated},
		{"unknown key", bearer("nope"), req, codes.Unauthenticated},
		{"key of the space", bearer("key-a"), req, codes.OK},
		{"key of another space", bearer("key-a"), memoryReq("space-b", "", "x", nil), codes.PermissionDenied},
		{"metadata picks a space outside the key", withSpace(bearer("key-a"), "space-b"), req, codes.PermissionDenied},
		{"wildcard key", bearer("key-all"), memoryReq("space-b", "", "x", nil), codes.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.client.Remember(tc.ctx, tc.req)
			if tc.want == codes.OK {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, tc.want)
		})
	}
	// Streams check the key before anything else.
	stream, err := h.client.Stream(context.Background(), &pb.StreamRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = stream.Recv()
	wantCode(t, err, codes.Unauthenticated)
	// A key lists only its spaces.
	list, err := h.client.ListSpaces(bearer("key-a"), &pb.ListSpacesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetSpaces()) != 1 || list.GetSpaces()[0].GetId() != "space-a" {
		t.Fatalf("key-a lists %v", list.GetSpaces())
	}
	// Liveness needs no key.
	if _, err := healthpb.NewHealthClient(h.conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("grpc.health.v1 without a key: %v", err)
	}
}

func TestHealthUnavailableWhenEngineClosed(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	if err := h.eng.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := h.client.Health(context.Background(), &pb.HealthRequest{})
	wantCode(t, err, codes.Unavailable)
	_, err = h.client.Remember(context.Background(), memoryReq("", "", "after close", nil))
	wantCode(t, err, codes.Unavailable)
}
