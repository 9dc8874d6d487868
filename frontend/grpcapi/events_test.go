package grpcapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
)

// subscribe opens an event stream and waits until the server subscribed.
func subscribe(t *testing.T, h *harness, ctx context.Context, req *pb.StreamRequest) grpc.ServerStreamingClient[pb.StreamResponse] {
	t.Helper()
	stream, err := h.client.Stream(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Header(); err != nil {
		t.Fatal(err)
	}
	return stream
}

func TestStreamIsolatesSpaces(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.remember(t, withSpace(ctx, "red"), memoryReq("", "r0", "creates red", nil))
	h.remember(t, withSpace(ctx, "blue"), memoryReq("", "b0", "creates blue", nil))
	red := subscribe(t, h, ctx, &pb.StreamRequest{MemorySpaceId: "red", EventTypes: []string{"storage"}})
	blue := subscribe(t, h, withSpace(ctx, "blue"), &pb.StreamRequest{MemorySpaceId: "red"}) // metadata wins

	h.remember(t, withSpace(ctx, "blue"), memoryReq("", "b1", "blue secret", nil))
	h.remember(t, withSpace(ctx, "red"), memoryReq("", "r1", "red secret", nil))

	ev, err := red.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if ev.GetMemoryId() != "r1" || ev.GetMemorySpaceId() != "red" || ev.GetEventType() != "storage" || ev.GetTimestamp() == nil {
		t.Fatalf("red stream got %v", ev)
	}
	var payload map[string]any
	if err := json.Unmarshal([]byte(ev.GetPayloadJson()), &payload); err != nil || payload["memory_space_id"] != "red" || payload["memory_id"] != "r1" {
		t.Fatalf("payload %s: %v", ev.GetPayloadJson(), err)
	}
	// The blue stream sees b1's storage and formation events and nothing of red.
	for i := 0; i < 2; i++ {
		ev, err := blue.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetMemorySpaceId() != "blue" || ev.GetMemoryId() != "b1" {
			t.Fatalf("blue stream got %v", ev)
		}
	}
	// A recall in red only: the next blue event must still be blue's own.
	if _, err := h.client.Recall(withSpace(ctx, "red"), &pb.RecallRequest{Cue: semanticCue("red secret")}); err != nil {
		t.Fatal(err)
	}
	h.remember(t, withSpace(ctx, "blue"), memoryReq("", "b2", "blue again", nil))
	ev, err = blue.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if ev.GetMemoryId() != "b2" {
		t.Fatalf("blue stream got %v after a red recall", ev)
	}
}

func TestStreamFiltersAndResumes(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	ctx, cancel := context.WithCancel(withSpace(context.Background(), "resume"))
	defer cancel()
	for _, id := range []string{"e1", "e2", "e3"} {
		h.remember(t, ctx, memoryReq("", id, "event source "+id, nil))
	}
	// Every remember publishes storage then formation: ids 1..6. Resume after 3.
	stream := subscribe(t, h, ctx, &pb.StreamRequest{LastEventId: proto.Uint64(3), EventTypes: []string{"formation"}})
	for _, want := range []struct {
		id  uint64
		mem string
	}{{4, "e2"}, {6, "e3"}} {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetEventId() != want.id || ev.GetMemoryId() != want.mem || ev.GetEventType() != "formation" {
			t.Fatalf("got %v, want event %d of %s", ev, want.id, want.mem)
		}
	}
	// last_event_id 0 (present) replays the whole buffer, and only this space's events.
	h.remember(t, withSpace(ctx, "elsewhere"), memoryReq("", "x1", "another space's event", nil))
	fromZero := subscribe(t, h, ctx, &pb.StreamRequest{LastEventId: proto.Uint64(0), EventTypes: []string{"storage"}})
	for _, want := range []string{"e1", "e2", "e3"} {
		ev, err := fromZero.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetMemoryId() != want || ev.GetMemorySpaceId() != "resume" {
			t.Fatalf("from event 0: got %v, want %s of space resume", ev, want)
		}
	}
	// min_importance drops events below it: a confidence 0.2 memory, then a 0.9 one.
	imp := subscribe(t, h, ctx, &pb.StreamRequest{MinImportance: 0.5, EventTypes: []string{"storage"}})
	low := memoryReq("", "low", "unimportant", nil)
	low.GetMemory().Confidence = &pb.Confidence{Value: 0.2}
	high := memoryReq("", "high", "important", nil)
	high.GetMemory().Confidence = &pb.Confidence{Value: 0.9}
	h.remember(t, ctx, low)
	h.remember(t, ctx, high)
	ev, err := imp.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if ev.GetMemoryId() != "high" || ev.GetImportance() < 0.5 {
		t.Fatalf("got %v, want the important memory only", ev)
	}
}

func TestStreamWaitsForUnknownSpace(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := h.client.Stream(withSpace(ctx, "later"), &pb.StreamRequest{EventTypes: []string{"storage"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.eng.Space("later"); err == nil {
		t.Fatal("subscribing created the space")
	}
	// The space appears with a first write; the stream subscribes and sees the second.
	h.remember(t, withSpace(ctx, "later"), memoryReq("", "first", "creates the space", nil))
	if _, err := stream.Header(); err != nil {
		t.Fatal(err)
	}
	h.remember(t, withSpace(ctx, "later"), memoryReq("", "second", "seen by the stream", nil))
	for {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetMemorySpaceId() != "later" {
			t.Fatalf("event of another space: %v", ev)
		}
		if ev.GetMemoryId() == "second" {
			return
		}
	}
}

func TestStreamRejectsBadRequests(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	for _, tc := range []struct {
		name string
		ctx  context.Context
		req  *pb.StreamRequest
	}{
		{"bad space", withSpace(context.Background(), "BAD"), &pb.StreamRequest{}},
		{"unknown event type", context.Background(), &pb.StreamRequest{EventTypes: []string{"storage", "gossip"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stream, err := h.client.Stream(tc.ctx, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			_, err = stream.Recv()
			wantCode(t, err, codes.InvalidArgument)
		})
	}
}

func TestStreamCutsSubscriberThatFallsBehind(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	// Fixed flow-control windows keep the transport from buffering more than a few hundred
	// events on behalf of a client that does not read.
	conn, err := grpc.NewClient(h.srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(withSpace(context.Background(), "flood"))
	defer cancel()
	h.remember(t, ctx, memoryReq("", "", "creates the space", nil))
	stream, err := pb.NewEngramServiceClient(conn).Stream(ctx, &pb.StreamRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Header(); err != nil {
		t.Fatal(err)
	}
	// 5,000 remembers publish 10,000 events, more than a subscription buffers.
	writer, err := h.client.StreamingRemember(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	go func() {
		for i := 0; i < n; i++ {
			if writer.Send(memoryReq("", "", fmt.Sprintf("flood %d", i), nil)) != nil {
				return
			}
		}
		_ = writer.CloseSend()
	}()
	for i := 0; i < n; i++ {
		if resp, err := writer.Recv(); err != nil || resp.GetError() != nil {
			t.Fatalf("writer ack %d: %v %v", i, resp, err)
		}
	}
	var last uint64
	for {
		ev, err := stream.Recv()
		if err != nil {
			st := wantCode(t, err, codes.ResourceExhausted)
			if !strings.Contains(st.Message(), "last_event_id=") {
				t.Fatalf("message %q does not say where to resume", st.Message())
			}
			break
		}
		if ev.GetEventId() <= last {
			t.Fatalf("event %d after %d", ev.GetEventId(), last)
		}
		last = ev.GetEventId()
	}
	if last >= 2*n {
		t.Fatalf("the slow subscriber received every event (%d); it should have been cut", last)
	}
}
