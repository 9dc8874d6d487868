package main

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestE2EAssociateSurvivesSIGKILL creates and strengthens an explicit association through
// the binary, follows it with SPREAD, kills the server with SIGKILL and finds the edge at
// its strength after the restart; another space neither sees nor can use it.
func TestE2EAssociateSurvivesSIGKILL(t *testing.T) {
	r := startE2E(t)
	call := r.call
	rng := rand.New(rand.NewPCG(5, 6))
	for i, id := range []string{"x0", "x1", "x2"} {
		// Random 768-d vectors are nearly orthogonal and the times hours apart: neither a
		// similarity nor a temporal edge joins them.
		m := map[string]any{"id": id, "content": "unrelated " + id, "embedding": e2eVector(rng, nil, 1),
			"timestamp": time.Now().Add(-time.Duration(3*i+1) * time.Hour).UTC().Format(time.RFC3339)}
		if code, out := call(http.MethodPost, "/api/v1/memories/remember", "as-a", m); code != http.StatusCreated {
			t.Fatalf("remember: %d %v", code, out)
		}
	}
	if code, out := call(http.MethodPost, "/api/v1/memories/remember", "as-b", map[string]any{"id": "x0", "content": "b's own x0"}); code != http.StatusCreated {
		t.Fatalf("remember: %d %v", code, out)
	}
	spreadTo := func(space string) map[string]float64 {
		t.Helper()
		code, out := call(http.MethodPost, "/api/v1/query", space, map[string]any{"query": "SPREAD FROM x0 DECAY 1 THRESHOLD 0.3"})
		if code != http.StatusOK {
			t.Fatalf("spread: %d %v", code, out)
		}
		got := map[string]float64{}
		list, _ := out["memories"].([]any)
		for _, m := range list {
			m := m.(map[string]any)
			got[m["id"].(string)] = m["activation_level"].(float64)
		}
		return got
	}
	for _, step := range []struct {
		body    map[string]any
		status  int
		created bool
		final   float64
	}{
		{map[string]any{"source_memory": "x0", "target_memory": "x1", "strength": 0.6, "association_type": "causal", "reason": "x0 led to x1"}, 201, true, 0.6},
		{map[string]any{"source_memory": "x1", "target_memory": "x0", "strength": 0.5}, 200, false, 0.8},
		{map[string]any{"source_memory": "x2", "target_memory": "x0", "memory_space": "as-a"}, 201, true, 0.5},
	} {
		code, out := call(http.MethodPost, "/api/v1/memories/associate", "as-a", step.body)
		if code != step.status || out["created"] != step.created || math.Abs(out["final_strength"].(float64)-step.final) > 1e-6 {
			t.Fatalf("associate %v: %d %v", step.body, code, out)
		}
	}
	code, out := call(http.MethodGet, "/api/v1/memories/x0/associations", "as-a", nil)
	edges, _ := out["associations"].([]any)
	if code != http.StatusOK || len(edges) != 2 || edges[0].(map[string]any)["target_memory_id"] != "x1" || edges[0].(map[string]any)["kind"] != "association" {
		t.Fatalf("associations of x0: %d %v", code, out)
	}
	want := map[string]float64{"x1": 0.8, "x2": 0.5}
	check := func() {
		t.Helper()
		got := spreadTo("as-a")
		if len(got) != 2 || math.Abs(got["x1"]-want["x1"]) > 1e-6 || math.Abs(got["x2"]-want["x2"]) > 1e-6 {
			t.Fatalf("SPREAD FROM x0 reached %v, want %v", got, want)
		}
		if got := spreadTo("as-b"); len(got) != 0 {
			t.Fatalf("as-b spreads to %v", got)
		}
	}
	check()

	for _, tt := range []struct {
		name, space string
		body        any
		status      int
		msg         string
	}{
		{"self", "as-a", map[string]any{"source_memory": "x0", "target_memory": "x0"}, 400, "same memory"},
		{"strength", "as-a", map[string]any{"source_memory": "x0", "target_memory": "x1", "strength": 1.5}, 400, "strength"},
		{"type", "as-a", map[string]any{"source_memory": "x0", "target_memory": "x1", "association_type": "romantic"}, 400, "association_type"},
		{"missing field", "as-a", map[string]any{"source_memory": "x0"}, 400, "target_memory"},
		{"bad id", "as-a", map[string]any{"source_memory": "x0", "target_memory": "x 1"}, 400, "target_memory"},
		{"unknown memory", "as-a", map[string]any{"source_memory": "x0", "target_memory": "x9"}, 404, "x9"},
		{"other space", "as-b", map[string]any{"source_memory": "x0", "target_memory": "x1"}, 404, "x1"},
		{"space that does not exist", "as-none", map[string]any{"source_memory": "x0", "target_memory": "x1"}, 404, "x0"},
	} {
		code, out := call(http.MethodPost, "/api/v1/memories/associate", tt.space, tt.body)
		e, _ := out["error"].(map[string]any)
		if code != tt.status || e == nil || !strings.Contains(e["message"].(string), tt.msg) {
			t.Fatalf("%s: %d %v", tt.name, code, out)
		}
	}

	client, ctx := r.grpc()
	res, err := client.Associate(ctx, &pb.AssociateRequest{MemorySpaceId: "as-a", SourceMemory: "x1", TargetMemory: "x2", Strength: 0.25,
		AssociationType: pb.AssociationType_ASSOCIATION_TYPE_TEMPORAL})
	if err != nil || !res.GetCreated() || res.GetFinalStrength() != 0.25 || len(res.GetAffectedPaths()) != 1 {
		t.Fatalf("gRPC Associate: %v %v", res, err)
	}
	if _, err := client.Associate(ctx, &pb.AssociateRequest{MemorySpaceId: "as-b", SourceMemory: "x0", TargetMemory: "x1"}); status.Code(err) != codes.NotFound {
		t.Fatalf("gRPC Associate across spaces: %v", err)
	}
	if _, err := client.Associate(ctx, &pb.AssociateRequest{MemorySpaceId: "as-a", SourceMemory: "x0", TargetMemory: "x1", Strength: 2}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("gRPC Associate with strength 2: %v", err)
	}
	r.killAndRestart()
	check()
}
