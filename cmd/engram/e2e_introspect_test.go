package main

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TestE2EIntrospect checks that introspection reports a space's real figures (counts by
// type and tier, edges, the recall rate) over HTTP and gRPC, that another space's figures
// are its own, and that bad parameters name themselves.
func TestE2EIntrospect(t *testing.T) {
	r := startE2E(t)
	call := r.call
	rng := rand.New(rand.NewPCG(1, 2))
	a := e2eVector(rng, nil, 1)
	for _, m := range []map[string]any{
		{"id": "i0", "content": "first", "embedding": a, "confidence": 0.6},
		{"id": "i1", "content": "second", "embedding": e2eVector(rng, a, 0.05), "confidence": 0.8, "auto_link": true, "memory_type": "semantic"},
		{"id": "i2", "content": "third", "embedding": e2eVector(rng, nil, 1), "confidence": 1, "memory_type": "procedural"},
	} {
		if status, out := call(http.MethodPost, "/api/v1/memories/remember", "intro-a", m); status != http.StatusCreated {
			t.Fatalf("remember: %d %v", status, out)
		}
	}
	if status, out := call(http.MethodPost, "/api/v1/memories/remember", "intro-b", map[string]any{"content": "only one"}); status != http.StatusCreated {
		t.Fatalf("remember: %d %v", status, out)
	}
	for range 3 {
		if status, out := call(http.MethodGet, "/api/v1/memories/recall?query=first", "intro-a", nil); status != http.StatusOK {
			t.Fatalf("recall: %d %v", status, out)
		}
	}

	code, out := call(http.MethodGet, "/api/v1/system/introspect", "intro-a", nil)
	m, _ := out["metrics"].(map[string]any)
	st, _ := out["statistics"].(map[string]any)
	h, _ := out["health"].(map[string]any)
	if code != http.StatusOK || m == nil || st == nil || h == nil || out["memory_space_id"] != "intro-a" {
		t.Fatalf("introspect: %d %v", code, out)
	}
	byType, _ := st["by_type"].(map[string]any)
	if m["memories"] != 3.0 || m["memories_semantic"] != 1.0 || m["memories_procedural"] != 1.0 || m["memories_episodic"] != 1.0 ||
		m["tier_hot"] != 3.0 || m["edges"].(float64) < 1 || m["recall_rate"] != 3.0/60 || byType["semantic"] != 1.0 ||
		st["total_memories"] != 3.0 || st["total_associations"] != m["edges"] || h["healthy"] != true {
		t.Fatalf("introspect figures of intro-a: %v", out)
	}
	if c := st["avg_confidence"].(float64); c < 0.79 || c > 0.81 {
		t.Fatalf("avg_confidence %v, want 0.8", c)
	}
	code, out = call(http.MethodGet, "/api/v1/system/introspect?metrics=memories,recall_rate&include_health=false", "intro-b", nil)
	m, _ = out["metrics"].(map[string]any)
	if code != http.StatusOK || len(m) != 2 || m["memories"] != 1.0 || m["recall_rate"] != 0.0 || out["health"] != nil || out["memory_space_id"] != "intro-b" {
		t.Fatalf("introspect of intro-b: %d %v", code, out)
	}
	code, out = call(http.MethodGet, "/api/v1/system/introspect?space=intro-none", "", nil)
	if m, _ = out["metrics"].(map[string]any); m["memories"] != 0.0 || code != http.StatusOK {
		t.Fatalf("introspect of a space that does not exist: %d %v", code, out)
	}
	for _, q := range []struct{ query, want string }{
		{"metrics=memories,bogus", `unknown metric "bogus"`},
		{"include_health=maybe", "include_health"},
		{"space=Bad.Space", "memory space"},
	} {
		code, out = call(http.MethodGet, "/api/v1/system/introspect?"+q.query, "", nil)
		e, _ := out["error"].(map[string]any)
		if code != http.StatusBadRequest || e == nil || !strings.Contains(e["message"].(string), q.want) {
			t.Fatalf("introspect?%s: %d %v", q.query, code, out)
		}
	}

	client, ctx := r.grpc()
	res, err := client.Introspect(ctx, &pb.IntrospectRequest{MemorySpaceId: "intro-a", IncludeHealth: true, IncludeStatistics: true})
	if err != nil || res.GetMetrics()["memories"] != 3 || res.GetStatistics().GetByType()["procedural"] != 1 ||
		!res.GetHealth().GetHealthy() || res.GetStatistics().GetOldestMemory() == nil || !strings.Contains(res.GetMetricsSnapshotJson(), `"memory_space_id":"intro-a"`) {
		t.Fatalf("gRPC Introspect of intro-a: %v %v", res, err)
	}
	res, err = client.Introspect(metadata.AppendToOutgoingContext(ctx, "x-memory-space", "intro-b"), &pb.IntrospectRequest{MemorySpaceId: "intro-a"})
	if err != nil || res.GetMetrics()["memories"] != 1 || res.GetHealth() != nil || res.GetStatistics() != nil {
		t.Fatalf("gRPC Introspect with the metadata naming intro-b: %v %v", res, err)
	}
	_, err = client.Introspect(ctx, &pb.IntrospectRequest{Metrics: []string{"nope"}})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), `"nope"`) {
		t.Fatalf("gRPC Introspect with an unknown metric: %v", err)
	}
}
