package main

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// e2eVector is a random 768-d vector (the default dimension), optionally near base.
func e2eVector(rng *rand.Rand, base []float64, noise float64) []float64 {
	v := make([]float64, 768)
	for i := range v {
		v[i] = noise * rng.NormFloat64()
		if base != nil {
			v[i] += base[i]
		}
	}
	return v
}

// memoryIDs lists the ids of an answer's "memories" array.
func memoryIDs(out map[string]any) []string {
	var ids []string
	list, _ := out["memories"].([]any)
	for _, m := range list {
		if m, ok := m.(map[string]any); ok {
			ids = append(ids, m["id"].(string))
		}
	}
	return ids
}

// TestE2EQueryLanguage drives the query language through the real binary over HTTP,
// gRPC and the command line: RECALL of a text, an id and a vector with their clauses,
// SPREAD over an edge made by auto_link, positioned syntax errors, 501 for the verbs
// that are not answered, and a second space that sees none of the first.
func TestE2EQueryLanguage(t *testing.T) {
	r := startE2E(t)
	call, env, data := r.call, r.env, r.data
	rng := rand.New(rand.NewPCG(7, 11))
	a := e2eVector(rng, nil, 1)
	for _, m := range []map[string]any{
		{"id": "q0", "content": "espresso at the harbour cafe", "embedding": a, "confidence": 0.9, "tags": []string{"coffee"}},
		{"id": "q1", "content": "a walk along the harbour", "embedding": e2eVector(rng, a, 0.05), "confidence": 0.5, "auto_link": true},
		{"id": "q2", "content": "tax forms due in april", "embedding": e2eVector(rng, nil, 1), "confidence": 0.8},
	} {
		if status, out := call(http.MethodPost, "/api/v1/memories/remember", "qa-one", m); status != http.StatusCreated {
			t.Fatalf("remember %v: %d %v", m["id"], status, out)
		}
	}
	if status, out := call(http.MethodPost, "/api/v1/memories/remember", "qa-two", map[string]any{"id": "z0", "content": "harbour lights in the other space"}); status != http.StatusCreated {
		t.Fatalf("remember in qa-two: %d %v", status, out)
	}

	ok := []struct {
		name, space, query string
		want               []string // ids in order; nil = none
	}{
		{"text", "qa-one", `RECALL "harbour" WHERE content CONTAINS "espresso"`, []string{"q0"}},
		{"text with a tag", "qa-one", `RECALL "harbour cafe" WHERE tag = "coffee" LIMIT 5`, []string{"q0"}},
		{"text, confidence clause", "qa-one", `RECALL "harbour" CONFIDENCE < 0.6`, []string{"q1"}},
		{"id", "qa-one", `RECALL q2`, []string{"q2"}},
		{"id filtered out", "qa-one", `RECALL q2 CONFIDENCE > 0.85`, nil},
		{"spread", "qa-one", `SPREAD FROM q0 MAX_HOPS 2 DECAY 0.9 THRESHOLD 0.5`, []string{"q1"}}, // above the temporal edges (0.3)
		{"other space recall", "qa-two", `RECALL "espresso harbour"`, []string{"z0"}},
		{"unknown space", "qa-none", `RECALL "harbour"`, nil},
	}
	for _, tt := range ok {
		status, out := call(http.MethodPost, "/api/v1/query", tt.space, map[string]any{"query": tt.query})
		ids := memoryIDs(out)
		if status != http.StatusOK || strings.Join(ids, ",") != strings.Join(tt.want, ",") {
			t.Fatalf("%s: %s in %s: %d ids %v, want %v (%v)", tt.name, tt.query, tt.space, status, ids, tt.want, out)
		}
		if out["memory_space_id"] != tt.space || out["total_count"] != float64(len(tt.want)) {
			t.Fatalf("%s: answer %v", tt.name, out)
		}
	}
	// A vector cue: the stored vector finds its memory first.
	code, out := call(http.MethodPost, "/api/v1/query", "qa-one", map[string]any{"query": "RECALL " + vectorLiteral(a) + " THRESHOLD 0.5 LIMIT 1"})
	if ids := memoryIDs(out); code != http.StatusOK || len(ids) != 1 || ids[0] != "q0" {
		t.Fatalf("vector recall: %d %v", code, out)
	}
	if ci, _ := out["aggregate_confidence"].(map[string]any); ci == nil || ci["confidence_level"] != 0.95 || ci["mean"].(float64) <= 0 {
		t.Fatalf("vector recall aggregate_confidence: %v", out["aggregate_confidence"])
	}

	bad := []struct {
		name, space string
		body        any
		status      int
		code, msg   string
	}{
		{"syntax", "qa-one", map[string]any{"query": `RECALL "coffee with friends" THRESHOLD high`}, 400, "BAD_REQUEST", "expected a number after THRESHOLD, got 'high' at 1:40"},
		{"missing query", "qa-one", map[string]any{"memory_space": "qa-one"}, 400, "BAD_REQUEST", "query is required"},
		{"query not a string", "qa-one", map[string]any{"query": 5}, 400, "", "query"},
		{"predict", "qa-one", map[string]any{"query": `PREDICT "rain" GIVEN q0`}, 501, "NOT_IMPLEMENTED", "PREDICT"},
		{"imagine", "qa-one", map[string]any{"query": `IMAGINE "rain"`}, 501, "NOT_IMPLEMENTED", "IMAGINE"},
		{"consolidate nothing", "qa-one", map[string]any{"query": `CONSOLIDATE "rain in the mountains" INTO r`}, 422, "MEMORY_VALIDATION_ERROR", "0 episodes"},
		{"consolidate one episode of another space", "qa-two", map[string]any{"query": `CONSOLIDATE WHERE content CONTAINS "harbour" INTO h`}, 422, "MEMORY_VALIDATION_ERROR", "1 episodes"},
		{"consolidate into an existing id", "qa-one", map[string]any{"query": `CONSOLIDATE WHERE content CONTAINS "harbour" INTO q2`}, 400, "INVALID_MEMORY_INPUT", "exists already"},
		{"spread from another space's memory", "qa-two", map[string]any{"query": `SPREAD FROM q0`}, 404, "MEMORY_NOT_FOUND", "q0"},
		{"recall another space's id", "qa-two", map[string]any{"query": `RECALL q0`}, 404, "MEMORY_NOT_FOUND", "q0"},
		{"vector of the wrong length", "qa-one", map[string]any{"query": `RECALL [0.1, 0.2]`}, 400, "INVALID_MEMORY_INPUT", "embedding"},
	}
	for _, tt := range bad {
		status, out := call(http.MethodPost, "/api/v1/query", tt.space, tt.body)
		e, _ := out["error"].(map[string]any)
		if status != tt.status || e == nil || (tt.code != "" && e["code"] != tt.code) || !strings.Contains(e["message"].(string), tt.msg) {
			t.Fatalf("%s: %d %v, want %d %s containing %q", tt.name, status, out, tt.status, tt.code, tt.msg)
		}
	}

	client, ctx := r.grpc()
	res, err := client.ExecuteQuery(ctx, &pb.QueryRequest{MemorySpaceId: "qa-one", QueryText: `SPREAD FROM q0 DECAY 0.9 THRESHOLD 0.5`})
	if err != nil || len(res.GetEpisodes()) != 1 || res.GetEpisodes()[0].GetId() != "q1" || res.GetTotalCount() != 1 ||
		len(res.GetConfidences()) != 1 || res.GetAggregateConfidence().GetConfidenceLevel() != 0.95 {
		t.Fatalf("gRPC SPREAD: %v %v", res, err)
	}
	res, err = client.ExecuteQuery(metadata.AppendToOutgoingContext(ctx, "x-memory-space", "qa-two"),
		&pb.QueryRequest{MemorySpaceId: "qa-one", QueryText: `RECALL "harbour espresso"`})
	if err != nil || len(res.GetEpisodes()) != 1 || res.GetEpisodes()[0].GetId() != "z0" {
		t.Fatalf("gRPC RECALL with the metadata naming qa-two: %v %v", res, err)
	}
	for _, tt := range []struct {
		query string
		code  codes.Code
		msg   string
	}{
		{`SPREAD FROM q0 MAX_HOPS 99`, codes.InvalidArgument, "MAX_HOPS must be a whole number from 1 to 8, got 99 at 1:25"},
		{`PREDICT "x" GIVEN q0`, codes.Unimplemented, "PREDICT"},
		{``, codes.InvalidArgument, "query_text"},
	} {
		_, err := client.ExecuteQuery(ctx, &pb.QueryRequest{MemorySpaceId: "qa-one", QueryText: tt.query})
		if st := status.Convert(err); st.Code() != tt.code || !strings.Contains(st.Message(), tt.msg) {
			t.Fatalf("gRPC %q: %v, want %v containing %q", tt.query, err, tt.code, tt.msg)
		}
	}

	var errOut string
	out2 := mustEngram(t, env, "query", `RECALL "harbour" WHERE content CONTAINS "walk"`, "--space", "qa-one", "--data-root", data)
	if !strings.Contains(out2, "RECALL returned 1 memory in space 'qa-one'") || !strings.Contains(out2, "q1") {
		t.Fatalf("engram query:\n%s", out2)
	}
	code, _, errOut = engram(t, env, "query", `SPREAD q0`, "--space", "qa-one", "--data-root", data)
	if code == 0 || !strings.Contains(errOut, "expected FROM after SPREAD, got 'q0' at 1:8") {
		t.Fatalf("engram query with a syntax error: exit %d, %q", code, errOut)
	}

	// CONSOLIDATE forms a semantic memory from the episodes WHERE selects, durably.
	code, out = call(http.MethodPost, "/api/v1/query", "qa-one", map[string]any{"query": `CONSOLIDATE WHERE content CONTAINS "harbour" INTO harbour_days`})
	if ids := memoryIDs(out); code != http.StatusOK || len(ids) != 1 || ids[0] != "harbour_days" {
		t.Fatalf("CONSOLIDATE: %d %v", code, out)
	}
	if code, out = call(http.MethodGet, "/api/v1/consolidations/harbour_days", "qa-one", nil); code != http.StatusOK || len(out["citations"].([]any)) != 2 {
		t.Fatalf("the consolidated belief: %d %v", code, out)
	}
	if code, _ = call(http.MethodGet, "/api/v1/memories/harbour_days", "qa-two", nil); code != http.StatusNotFound {
		t.Fatalf("qa-two sees harbour_days: %d", code)
	}
}

func vectorLiteral(v []float64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range v {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	}
	b.WriteByte(']')
	return b.String()
}
