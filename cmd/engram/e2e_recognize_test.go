package main

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestE2ERecognize checks recognition through the binary: a stored vector or text is
// recognized with the stored memory first, an unrelated one is not, another space
// recognizes nothing of the first, and bad input names its field.
func TestE2ERecognize(t *testing.T) {
	r := startE2E(t)
	hc, base := r.hc, r.url("")
	call := func(space string, body any) (int, map[string]any) {
		t.Helper()
		return callJSON(t, hc, http.MethodPost, base+"/api/v1/memories/recognize", space, body)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	a := e2eVector(rng, nil, 1)
	for _, m := range []map[string]any{
		{"id": "r0", "content": "a lighthouse on a granite cliff", "embedding": a},
		{"id": "r1", "content": "the quick brown fox jumps over the lazy dog"},
	} {
		if code, out := callJSON(t, hc, http.MethodPost, base+"/api/v1/memories/remember", "rec-a", m); code != http.StatusCreated {
			t.Fatalf("remember: %d %v", code, out)
		}
	}
	first := func(out map[string]any) string {
		l, _ := out["similar_memories"].([]any)
		if len(l) == 0 {
			return ""
		}
		return l[0].(map[string]any)["id"].(string)
	}
	for _, tt := range []struct {
		name, space string
		body        map[string]any
		recognized  bool
		first       string
	}{
		{"stored vector", "rec-a", map[string]any{"embedding": e2eVector(rng, a, 0.02)}, true, "r0"},
		{"stored text", "rec-a", map[string]any{"content": "the quick brown fox jumps over the lazy dog"}, true, "r1"},
		{"unrelated vector", "rec-a", map[string]any{"embedding": e2eVector(rng, nil, 1)}, false, ""},
		{"strict threshold", "rec-a", map[string]any{"embedding": e2eVector(rng, a, 0.5), "recognition_threshold": 0.99}, false, "r0"},
		{"other space", "rec-b", map[string]any{"embedding": a}, false, ""},
		{"space in the body", "", map[string]any{"embedding": a, "memory_space": "rec-a"}, true, "r0"},
	} {
		code, out := call(tt.space, tt.body)
		if code != http.StatusOK || out["recognized"] != tt.recognized || (tt.first != "" && first(out) != tt.first) {
			t.Fatalf("%s: %d %v", tt.name, code, out)
		}
		if f := out["familiarity_score"].(float64); tt.recognized && f < 0.7 || tt.space == "rec-b" && f != 0 {
			t.Fatalf("%s: familiarity %v", tt.name, f)
		}
		if tt.space == "rec-b" && first(out) != "" {
			t.Fatalf("rec-b sees %v", out)
		}
	}
	for _, tt := range []struct {
		name string
		body any
		want string
	}{
		{"nothing to recognize", map[string]any{"recognition_threshold": 0.5}, "content or embedding is required"},
		{"threshold out of range", map[string]any{"content": "x", "recognition_threshold": 2}, "recognition_threshold"},
		{"wrong length", map[string]any{"embedding": []float64{1, 2}}, "embedding"},
		{"content not a string", map[string]any{"content": 3}, "content"},
		{"malformed", `{"content": `, "malformed JSON"},
	} {
		code, out := call("rec-a", tt.body)
		e, _ := out["error"].(map[string]any)
		if code != http.StatusBadRequest || e == nil || !strings.Contains(e["message"].(string), tt.want) {
			t.Fatalf("%s: %d %v", tt.name, code, out)
		}
	}

	client, ctx := r.grpc()
	f32 := func(v []float64) []float32 {
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out
	}
	res, err := client.Recognize(ctx, &pb.RecognizeRequest{MemorySpaceId: "rec-a", Input: &pb.RecognizeRequest_Embedding{Embedding: &pb.Embedding{Values: f32(a)}}})
	if err != nil || !res.GetRecognized() || len(res.GetSimilarMemories()) == 0 || res.GetSimilarMemories()[0].GetId() != "r0" || res.GetRecognitionConfidence().GetValue() < 0.7 {
		t.Fatalf("gRPC Recognize by embedding: %v %v", res, err)
	}
	res, err = client.Recognize(ctx, &pb.RecognizeRequest{MemorySpaceId: "rec-a", Input: &pb.RecognizeRequest_Memory{Memory: &pb.Memory{Content: "the quick brown fox jumps over the lazy dog"}}})
	if err != nil || !res.GetRecognized() || res.GetSimilarMemories()[0].GetId() != "r1" {
		t.Fatalf("gRPC Recognize by memory content: %v %v", res, err)
	}
	res, err = client.Recognize(ctx, &pb.RecognizeRequest{MemorySpaceId: "rec-b", Input: &pb.RecognizeRequest_Content{Content: "a lighthouse on a granite cliff"}})
	if err != nil || res.GetRecognized() || len(res.GetSimilarMemories()) != 0 {
		t.Fatalf("gRPC Recognize in rec-b: %v %v", res, err)
	}
	_, err = client.Recognize(ctx, &pb.RecognizeRequest{MemorySpaceId: "rec-a"})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "input") {
		t.Fatalf("gRPC Recognize without input: %v", err)
	}
}
