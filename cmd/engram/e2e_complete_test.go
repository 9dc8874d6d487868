package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestE2ECompleteFillsABlankedField stores episodes, asks for one of them with fields
// blanked, and checks that pattern completion fills them from that episode (recalled)
// with alternatives from the others; that a cue nothing supports is refused with 422;
// that another space completes only from its own memories; and that bad input names its
// field.
func TestE2ECompleteFillsABlankedField(t *testing.T) {
	r := startE2E(t)
	hc, base := r.hc, r.url("")
	call := func(space string, body any) (int, map[string]any) {
		t.Helper()
		return callJSON(t, hc, http.MethodPost, base+"/api/v1/complete", space, body)
	}
	day := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, e := range []map[string]any{
		{"id": "c1", "what": "sailing lesson at the harbour", "when": day, "where": "Old Harbour", "who": []string{"Ana", "Ben"}, "why": "to learn to sail"},
		{"id": "c2", "what": "second sailing lesson at the harbour", "when": day.Add(24 * time.Hour), "where": "Marina", "who": []string{"Ana"}},
		{"id": "c3", "what": "tax forms for the accountant", "when": day.Add(72 * time.Hour), "where": "Office", "who": []string{"Dana"}},
	} {
		if code, out := callJSON(t, hc, http.MethodPost, base+"/api/v1/episodes/remember", "cp-a", e); code != http.StatusCreated {
			t.Fatalf("episode: %d %v", code, out)
		}
	}
	if code, out := callJSON(t, hc, http.MethodPost, base+"/api/v1/episodes/remember", "cp-b", map[string]any{"what": "sailing lesson at the harbour", "when": day, "where": "Lake Shore"}); code != http.StatusCreated {
		t.Fatalf("episode: %d %v", code, out)
	}

	// c1 with its place, people and reason blanked, in the Rust request shape.
	code, out := call("cp-a", map[string]any{"partial_pattern": map[string]any{"fragments": []any{map[string]any{
		"known_fields":   map[string]string{"what": "sailing lesson at the harbour", "when": day.Format(time.RFC3339)},
		"missing_fields": []string{"where_location", "who", "why"}}}}})
	if code != http.StatusOK {
		t.Fatalf("complete: %d %v", code, out)
	}
	ep, _ := out["completed_episode"].(map[string]any)
	if ep["where_location"] != "Old Harbour" || ep["who"] != "Ana, Ben" || ep["why"] != "to learn to sail" || ep["what"] != "sailing lesson at the harbour" {
		t.Fatalf("completed episode %v", out)
	}
	var where map[string]any
	for _, f := range out["fields"].([]any) {
		if f := f.(map[string]any); f["field"] == "where_location" {
			where = f
		}
	}
	alts, _ := where["alternatives"].([]any)
	if where["source"] != "recalled" || where["source_memories"].([]any)[0] != "c1" || len(alts) == 0 || alts[0].(map[string]any)["value"] != "Marina" {
		t.Fatalf("where_location attribution %v", where)
	}
	if conf := out["completion_confidence"].(map[string]any)["value"].(float64); conf < 0.5 || conf > 1 {
		t.Fatalf("completion confidence %v", conf)
	}

	for _, tt := range []struct {
		name, space string
		body        any
		status      int
		code, msg   string
	}{
		{"nothing supports it", "cp-a", map[string]any{"known_fields": map[string]string{"what": "quantum chromodynamics lecture"}, "missing_fields": []string{"where"}}, 422, "MEMORY_VALIDATION_ERROR", "no memory"},
		{"nobody holds the field", "cp-a", map[string]any{"known_fields": map[string]string{"what": "tax forms for the accountant"}, "missing_fields": []string{"why"}}, 422, "MEMORY_VALIDATION_ERROR", "why"},
		{"empty space", "cp-none", map[string]any{"known_fields": map[string]string{"what": "sailing"}}, 422, "MEMORY_VALIDATION_ERROR", "holds no memories"},
		{"no known field", "cp-a", map[string]any{"missing_fields": []string{"where"}}, 400, "INVALID_MEMORY_INPUT", "known_fields"},
		{"unknown field", "cp-a", map[string]any{"known_fields": map[string]string{"colour": "red"}}, 400, "INVALID_MEMORY_INPUT", "colour"},
		{"not a string", "cp-a", map[string]any{"known_fields": map[string]any{"what": 3}}, 400, "INVALID_MEMORY_INPUT", "known_fields.what"},
		{"threshold", "cp-a", map[string]any{"known_fields": map[string]string{"what": "x"}, "completion_threshold": 3}, 400, "INVALID_MEMORY_INPUT", "completion_threshold"},
		{"two fragments", "cp-a", map[string]any{"partial_pattern": map[string]any{"fragments": []any{map[string]any{}, map[string]any{}}}}, 400, "INVALID_MEMORY_INPUT", "fragments"},
	} {
		code, out := call(tt.space, tt.body)
		e, _ := out["error"].(map[string]any)
		if code != tt.status || e == nil || e["code"] != tt.code || !strings.Contains(e["message"].(string), tt.msg) {
			t.Fatalf("%s: %d %v", tt.name, code, out)
		}
	}
	code, out = call("cp-b", map[string]any{"known_fields": map[string]string{"what": "sailing lesson at the harbour"}, "missing_fields": []string{"where"}})
	if ep, _ := out["completed_episode"].(map[string]any); code != http.StatusOK || ep["where_location"] != "Lake Shore" {
		t.Fatalf("cp-b completes from %d %v", code, out)
	}

	client, ctx := r.grpc()
	res, err := client.Complete(ctx, &pb.CompleteRequest{MemorySpaceId: "cp-a", PartialPattern: &pb.PatternCue{Fragments: []*pb.PartialMemory{{
		KnownFields: map[string]string{"what": "sailing lesson at the harbour"}, MissingFields: []string{"where_location"}}}}})
	if err != nil || len(res.GetCompletions()) < 2 || res.GetCompletions()[0].GetMetadata()["where_location"] != "Old Harbour" ||
		res.GetCompletions()[1].GetMetadata()["where_location"] != "Marina" || res.GetFields()[0].GetSource() != "recalled" ||
		res.GetFieldConfidences()["where_location"] < 0.5 {
		t.Fatalf("gRPC Complete: %v %v", res, err)
	}
	_, err = client.Complete(ctx, &pb.CompleteRequest{MemorySpaceId: "cp-a", PartialPattern: &pb.PatternCue{Fragments: []*pb.PartialMemory{{
		KnownFields: map[string]string{"what": "quantum chromodynamics lecture"}}}}})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "no memory") {
		t.Fatalf("gRPC Complete without evidence: %v", err)
	}
	if _, err := client.Complete(ctx, &pb.CompleteRequest{MemorySpaceId: "cp-a"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("gRPC Complete without a pattern: %v", err)
	}
}
