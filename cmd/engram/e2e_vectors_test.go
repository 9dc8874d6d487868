package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// TestE2EEmbeddingsThroughTheBinary drives the real binary with client embeddings: a
// batch sent as a JSON array stores its good items and names the bad one's field; a
// malformed array stores nothing; a near-duplicate remembered with auto_link gets its
// similarity edge back; another space sees none of it; and a gRPC stream asking for
// last_event_id 0 replays the space's stored memories and none of another space's.
func TestE2EEmbeddingsThroughTheBinary(t *testing.T) {
	needBinary(t)
	env := e2eEnv(t)
	srv := startServer(t, env, filepath.Join(t.TempDir(), "data"))
	base := "http://" + srv.http
	hc := &http.Client{Timeout: 30 * time.Second}

	const dim = 768 // the default dimension
	rng := rand.New(rand.NewPCG(3, 5))
	vector := func(base []float64, noise float64) []float64 {
		v := make([]float64, dim)
		for i := range v {
			v[i] = noise * rng.NormFloat64()
			if base != nil {
				v[i] += base[i]
			}
		}
		return v
	}
	a, b := vector(nil, 1), vector(nil, 1)
	call := func(method, path, space string, body any) (int, map[string]any) {
		t.Helper()
		return callJSON(t, hc, method, base+path, space, body)
	}

	status, out := call(http.MethodPost, "/api/v1/memories/batch", "tenant-a", []map[string]any{
		{"id": "a0", "content": "first vector memory", "embedding": a},
		{"id": "a1", "content": "a vector of the wrong length", "embedding": []float64{1, 2, 3}},
		{"id": "a2", "content": "second vector memory", "embedding": b},
	})
	errs, _ := out["errors"].([]any)
	if status != http.StatusOK || out["accepted"] != float64(2) || len(errs) != 1 {
		t.Fatalf("batch: %d %v", status, out)
	}
	if e, _ := errs[0].(map[string]any); e["index"] != float64(1) || !strings.Contains(fmt.Sprint(e["error"]), "embedding") {
		t.Fatalf("batch error %v does not name item 1's embedding", errs[0])
	}
	malformed := json.RawMessage(`[{"id":"a3","content":"never stored","embedding":[0.5,0.25]},]`)
	if status, out = call(http.MethodPost, "/api/v1/memories/batch", "tenant-a", malformed); status != http.StatusBadRequest {
		t.Fatalf("malformed batch: %d %v", status, out)
	}
	for id, want := range map[string]int{"a0": 200, "a1": 404, "a2": 200, "a3": 404} {
		if status, out = call(http.MethodGet, "/api/v1/memories/"+id, "tenant-a", nil); status != want {
			t.Fatalf("GET %s: %d %v, want %d", id, status, out, want)
		}
	}

	status, out = call(http.MethodPost, "/api/v1/memories/remember", "tenant-a", map[string]any{
		"id": "twin", "content": "near the first", "embedding": vector(a, 0.01), "auto_link": true,
	})
	links, _ := out["auto_links"].([]any)
	var linked bool
	for _, l := range links {
		if m, _ := l.(map[string]any); m["target_memory_id"] == "a0" && m["link_reason"] == "semantic_similarity" {
			linked = true
		}
	}
	if status != http.StatusCreated || !linked {
		t.Fatalf("auto_link remember: %d, links %v lack a similarity edge to a0", status, out["auto_links"])
	}

	if status, out = call(http.MethodPost, "/api/v1/memories/remember", "tenant-b", map[string]any{"id": "b0", "content": "another tenant"}); status != http.StatusCreated {
		t.Fatalf("remember in tenant-b: %d %v", status, out)
	}
	for _, id := range []string{"a0", "a2", "twin"} {
		if status, _ = call(http.MethodGet, "/api/v1/memories/"+id, "tenant-b", nil); status != http.StatusNotFound {
			t.Fatalf("tenant-b sees %s: %d", id, status)
		}
	}

	conn, err := grpc.NewClient(srv.grpcAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "x-memory-space", "tenant-a"), 20*time.Second)
	defer cancel()
	stream, err := pb.NewEngramServiceClient(conn).Stream(ctx, &pb.StreamRequest{LastEventId: proto.Uint64(0), EventTypes: []string{"storage"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a0", "a2", "twin"} {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetMemoryId() != want || ev.GetMemorySpaceId() != "tenant-a" {
			t.Fatalf("replayed event %v, want %s of tenant-a", ev, want)
		}
	}
}
