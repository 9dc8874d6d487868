package main

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestE2EConsolidateNow runs consolidation on demand through the binary: three similar old
// episodes become one semantic memory citing them, a second run forms nothing, another
// space is untouched, and bad input or unsupported selections are refused.
func TestE2EConsolidateNow(t *testing.T) {
	r := startE2E(t)
	call := r.call
	rng := rand.New(rand.NewPCG(9, 9))
	old := time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339)
	store := func(space string) {
		a := e2eVector(rng, nil, 1)
		for i, c := range []string{"rain on the tin roof", "rain again on the roof", "the roof in the rain"} {
			m := map[string]any{"id": "ep" + string(rune('0'+i)), "content": c, "embedding": e2eVector(rng, a, 0.05), "timestamp": old}
			if code, out := call(http.MethodPost, "/api/v1/memories/remember", space, m); code != http.StatusCreated {
				t.Fatalf("remember: %d %v", code, out)
			}
		}
	}
	store("con-a")
	store("con-b")
	store("con-c")

	code, out := call(http.MethodPost, "/api/v1/consolidations", "con-a", nil)
	formed, _ := out["formed"].([]any)
	if code != http.StatusOK || len(formed) != 1 || out["memories_consolidated"] != 3.0 || out["memory_space_id"] != "con-a" {
		t.Fatalf("consolidate con-a: %d %v", code, out)
	}
	b := formed[0].(map[string]any)
	if cites, _ := b["citations"].([]any); len(cites) != 3 || !strings.HasPrefix(b["id"].(string), "sem_") {
		t.Fatalf("formed belief %v", b)
	}
	if changes, _ := out["state_changes"].(map[string]any); changes["ep0"] != "Consolidated" || len(changes) != 3 {
		t.Fatalf("state_changes %v", out["state_changes"])
	}
	if code, out = call(http.MethodPost, "/api/v1/consolidations", "con-a", map[string]any{}); code != http.StatusOK || len(out["formed"].([]any)) != 0 {
		t.Fatalf("second run: %d %v", code, out)
	}
	if code, out = call(http.MethodGet, "/api/v1/consolidations", "con-b", nil); code != http.StatusOK || len(out["beliefs"].([]any)) != 0 {
		t.Fatalf("con-b has beliefs after con-a's run: %d %v", code, out)
	}
	// A cutoff before the episodes were observed finds nothing to consolidate.
	before := time.Now().Add(-5 * time.Hour).UTC().Format(time.RFC3339)
	if code, out = call(http.MethodPost, "/api/v1/consolidations", "", map[string]any{"memory_space": "con-b", "older_than": before}); code != http.StatusOK || len(out["formed"].([]any)) != 0 {
		t.Fatalf("older_than before the episodes: %d %v", code, out)
	}
	for _, body := range []any{map[string]any{"older_than": "yesterday"}, `{"older_than": `, []int{1}} {
		code, out = call(http.MethodPost, "/api/v1/consolidations", "con-b", body)
		if code != http.StatusBadRequest || out["error"] == nil {
			t.Fatalf("bad body %v: %d %v", body, code, out)
		}
	}

	client, ctx := r.grpc()
	res, err := client.Consolidate(ctx, &pb.ConsolidateRequest{MemorySpaceId: "con-c",
		Target: &pb.ConsolidateRequest_Criteria{Criteria: &pb.ConsolidationCriteria{OlderThan: timestamppb.Now()}}})
	if err != nil || res.GetMemoriesConsolidated() != 3 || res.GetStateChanges()["ep1"] != pb.ConsolidationState_CONSOLIDATION_STATE_CONSOLIDATED ||
		len(res.GetFormed()) != 1 || !strings.Contains(res.GetFormed()[0].GetMetadata()["citations"], "ep2") {
		t.Fatalf("gRPC Consolidate con-c: %v %v", res, err)
	}
	res, err = client.Consolidate(ctx, &pb.ConsolidateRequest{MemorySpaceId: "con-b", Target: &pb.ConsolidateRequest_All{All: &emptypb.Empty{}}})
	if err != nil || res.GetMemoriesConsolidated() != 3 {
		t.Fatalf("gRPC Consolidate con-b: %v %v", res, err)
	}
	for _, req := range []*pb.ConsolidateRequest{
		{MemorySpaceId: "con-b", Target: &pb.ConsolidateRequest_MemoryIds{MemoryIds: &pb.MemoryIdList{Ids: []string{"ep0"}}}},
		{MemorySpaceId: "con-b", Mode: pb.ConsolidationMode_CONSOLIDATION_MODE_SYNAPTIC},
	} {
		if _, err := client.Consolidate(ctx, req); status.Code(err) != codes.Unimplemented {
			t.Fatalf("gRPC Consolidate %v: %v, want UNIMPLEMENTED", req, err)
		}
	}
}
