package grpcapi

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/frontendtest"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"github.com/engram-go/engram/internal/enginetest"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
)

const testDim = 8

// harness is a server on a loopback port, its engine and a connected client.
type harness struct {
	eng    *engine.Engine
	srv    *Server
	conn   *grpc.ClientConn
	client pb.EngramServiceClient
}

type harnessConfig struct {
	engine  func(*engine.Config)
	options func(*frontend.Options)
}

func newHarness(t testing.TB, hc harnessConfig) *harness {
	t.Helper()
	cfg := enginetest.Config(t, testDim)
	if hc.engine != nil {
		hc.engine(&cfg)
	}
	eng := enginetest.Open(t, cfg)
	opts := frontend.Options{Engine: eng, Logger: enginetest.QuietLogger(), GRPCListen: "127.0.0.1:0", Version: "test"}
	if hc.options != nil {
		hc.options(&opts)
	}
	fe, err := frontend.New("grpc", opts)
	if err != nil {
		t.Fatalf("new frontend: %v", err)
	}
	srv := fe.(*Server)
	if err := srv.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	h := &harness{eng: eng, srv: srv, conn: conn, client: pb.NewEngramServiceClient(conn)}
	frontendtest.StopAtCleanup(t, srv, eng)
	t.Cleanup(func() { conn.Close() })
	return h
}

// withSpace returns ctx carrying the x-memory-space metadata.
func withSpace(ctx context.Context, space string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, spaceMetadata, space)
}

// axisVector is a unit-free test vector of the test dimension pointing mostly along axis i.
func axisVector(i int, jitter float32) []float32 {
	v := make([]float32, testDim)
	for k := range v {
		v[k] = jitter * float32(k+1) / testDim
	}
	v[i%testDim] += 1
	return v
}

func memoryReq(space, id, content string, embedding []float32) *pb.RememberRequest {
	return &pb.RememberRequest{
		MemorySpaceId: space,
		MemoryType: &pb.RememberRequest_Memory{Memory: &pb.Memory{
			Id: id, Content: content, Embedding: embedding,
		}},
	}
}

func (h *harness) remember(t *testing.T, ctx context.Context, req *pb.RememberRequest) *pb.RememberResponse {
	t.Helper()
	resp, err := h.client.Remember(ctx, req)
	if err != nil {
		t.Fatalf("remember: %v", err)
	}
	return resp
}

// wantCode fails unless err is a status with code want.
func wantCode(t *testing.T, err error, want codes.Code) *status.Status {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != want {
		t.Fatalf("got %v, want code %v", err, want)
	}
	return st
}

// reasonOf is the public error code carried in the status's ErrorInfo.
func reasonOf(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

func ids(ms []*pb.Memory) []string { return enginetest.IDs(ms, (*pb.Memory).GetId) }

func sameVector(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-5 {
			return false
		}
	}
	return true
}

func TestStartReportsBindError(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s, err := New(frontend.Options{Engine: h.eng, Logger: enginetest.QuietLogger(), GRPCListen: h.srv.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil {
		t.Fatalf("second server bound the same address %s", h.srv.Addr())
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("stop of a server that never started: %v", err)
	}
}

func TestStopEndsEventStreams(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	stream, err := h.client.Stream(context.Background(), &pb.StreamRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Header(); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.Stop(context.Background()); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := stream.Recv(); status.Code(err) != codes.Unavailable {
		t.Fatalf("stream after stop: %v, want UNAVAILABLE", err)
	}
	if err := h.srv.ServeOn(nil); !errors.Is(err, ErrStopped) {
		t.Fatalf("serve after stop: %v, want ErrStopped", err)
	}
}

func TestReflectionAndStandardHealth(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	ctx := context.Background()
	hc, err := healthpb.NewHealthClient(h.conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("grpc.health.v1 check: %v %v", hc, err)
	}
	rc, err := reflectionpb.NewServerReflectionClient(h.conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}); err != nil {
		t.Fatal(err)
	}
	resp, err := rc.Recv()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range resp.GetListServicesResponse().GetService() {
		found = found || s.GetName() == "engram.v1.EngramService"
	}
	if !found {
		t.Fatalf("reflection does not list engram.v1.EngramService: %v", resp)
	}
}
