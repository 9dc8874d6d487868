package httpapi

import (
	"fmt"
	"net/http"
	"testing"
)

func TestListMemories(t *testing.T) {
	ts := newTestServer(t)
	for i := 0; i < 5; i++ {
		ts.post(t, "/api/v1/memories/remember", fmt.Sprintf(`{"id":"m%d","content":"memory number %d"}`, 4-i, i)).expectStatus(t, 201)
	}
	m := ts.get(t, "/api/v1/memories?offset=1&limit=2").expectStatus(t, http.StatusOK).object(t)
	if got := ids(t, arr(t, m, "memories")); len(got) != 2 || got[0] != "m1" || got[1] != "m2" {
		t.Fatalf("page %v, want [m1 m2] (id order)", got)
	}
	if num(t, m, "count") != 5 {
		t.Errorf("count %v", m["count"])
	}
	p := obj(t, m, "pagination")
	if num(t, p, "offset") != 1 || num(t, p, "limit") != 2 || num(t, p, "returned") != 2 {
		t.Errorf("pagination %v", p)
	}
	tc := obj(t, m, "tier_counts")
	if num(t, tc, "hot")+num(t, tc, "warm")+num(t, tc, "cold") != 5 || num(t, tc, "total") != 5 {
		t.Errorf("tier_counts %v", tc)
	}
	e := arr(t, m, "memories")[0].(map[string]any)
	for _, k := range []string{"id", "content", "confidence", "timestamp", "tier"} {
		if _, ok := e[k]; !ok {
			t.Errorf("entry lacks %q", k)
		}
	}
	if _, ok := e["embedding"]; ok {
		t.Error("embedding listed without include_embeddings")
	}
	withEmb := ts.get(t, "/api/v1/memories?limit=1&include_embeddings=true").expectStatus(t, 200).object(t)
	if emb := arr(t, arr(t, withEmb, "memories")[0].(map[string]any), "embedding"); len(emb) != testDim {
		t.Errorf("embedding of %d components", len(emb))
	}
	warm := ts.get(t, "/api/v1/memories?tier=warm").expectStatus(t, 200).object(t)
	if len(arr(t, warm, "memories")) != 0 {
		t.Errorf("warm tier lists %v", warm["memories"])
	}
	empty := ts.get(t, "/api/v1/memories", "X-Memory-Space", "never-written").expectStatus(t, 200).object(t)
	if len(arr(t, empty, "memories")) != 0 || num(t, empty, "count") != 0 {
		t.Errorf("unknown space lists %v", empty)
	}
	for _, c := range []struct{ query, word string }{
		{"tier=lukewarm", "tier"},
		{"offset=-1", "offset"},
		{"limit=0", "limit"},
		{"limit=100000", "limit"},
		{"include_embeddings=perhaps", "include_embeddings"},
	} {
		t.Run(c.query, func(t *testing.T) {
			ts.get(t, "/api/v1/memories?"+c.query).expectError(t, 400, "BAD_REQUEST", c.word)
		})
	}
}

func TestGetAndDeleteMemory(t *testing.T) {
	ts := newTestServer(t)
	id := ts.remember(t, "to be forgotten")
	got := ts.get(t, "/api/v1/memories/"+id).expectStatus(t, http.StatusOK).object(t)
	for _, k := range []string{"id", "content", "embedding", "confidence", "observed_at", "stored_at", "last_access",
		"access_count", "tags", "memory_type", "tier", "memory_space_id"} {
		if _, ok := got[k]; !ok {
			t.Errorf("memory lacks %q", k)
		}
	}
	d := ts.do(t, req{method: http.MethodDelete, path: "/api/v1/memories/" + id}).expectStatus(t, http.StatusOK).object(t)
	if str(t, d, "memory_id") != id || d["forgotten"] != true {
		t.Fatalf("delete answer %v", d)
	}
	ts.get(t, "/api/v1/memories/"+id).expectError(t, http.StatusNotFound, "MEMORY_NOT_FOUND", id)
	ts.do(t, req{method: http.MethodDelete, path: "/api/v1/memories/" + id}).expectError(t, http.StatusNotFound, "MEMORY_NOT_FOUND")
	ts.get(t, "/api/v1/memories/never-was").expectError(t, http.StatusNotFound, "MEMORY_NOT_FOUND")
}

func TestSearch(t *testing.T) {
	ts := newTestServer(t)
	id := ts.remember(t, "quantum chromodynamics lecture notes")
	ts.remember(t, "shopping list")
	m := ts.get(t, "/api/v1/memories/search?query=chromodynamics&limit=5").expectStatus(t, http.StatusOK).object(t)
	got := ids(t, arr(t, m, "memories"))
	if len(got) != 1 || got[0] != id || num(t, m, "total") != 1 {
		t.Fatalf("search %v", m)
	}
	ts.get(t, "/api/v1/memories/search").expectError(t, 400, "BAD_REQUEST", "query")
	ts.get(t, "/api/v1/memories/search?query=x&limit=5000").expectError(t, 400, "BAD_REQUEST", "limit")
}

func TestConsolidationsReportRealState(t *testing.T) {
	ts := newTestServer(t)
	ts.remember(t, "an episode that is not consolidated")
	m := ts.get(t, "/api/v1/consolidations").expectStatus(t, http.StatusOK).object(t)
	if b := arr(t, m, "beliefs"); len(b) != 0 {
		t.Fatalf("beliefs %v without any consolidated memory", b)
	}
	str(t, m, "generated_at")
	st := obj(t, m, "stats")
	if num(t, st, "beliefs") != 0 || num(t, st, "memories") != 1 {
		t.Fatalf("stats %v", st)
	}
	ts.get(t, "/api/v1/consolidations/mem_nothing").expectError(t, 404, "RESOURCE_NOT_FOUND")
	ts.get(t, "/api/v1/consolidations", "X-Memory-Space", "no-such-space").expectStatus(t, 200)
}
