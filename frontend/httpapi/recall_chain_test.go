package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// chainJSON are the embeddings of the chain of docs/spreading-activation.md in testDim
// dimensions: cos(a,b) = cos(b,c) = 0.75, cos(a,c) = 0.125; d is a weak direct match of
// a (cos 0.15) with no association.
func chainJSON() map[string]string {
	th := math.Acos(0.75)
	v := func(xs ...float64) string {
		parts := make([]string, testDim)
		for i := range parts {
			parts[i] = "0"
			if i < len(xs) {
				parts[i] = fmt.Sprint(xs[i])
			}
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return map[string]string{
		"a": v(1),
		"b": v(math.Cos(th), math.Sin(th)),
		"c": v(math.Cos(2*th), math.Sin(2*th)),
		"d": v(0.15, 0, math.Sqrt(1-0.15*0.15)),
	}
}

// rememberChain stores c, b, a, d an hour apart (no temporal edges), each waiting for its
// edges with link_threshold 0.7.
func rememberChain(t *testing.T, ts *testServer) {
	t.Helper()
	v := chainJSON()
	at := time.Now().UTC().Add(-5 * time.Hour)
	for _, id := range []string{"c", "b", "a", "d"} {
		at = at.Add(time.Hour)
		body := fmt.Sprintf(`{"id":%q,"content":"chain %s","embedding":%s,"confidence":0.9,"timestamp":%q,"auto_link":true,"link_threshold":0.7}`,
			id, id, v[id], at.Format(time.RFC3339))
		ts.post(t, "/api/v1/memories/remember", body).expectStatus(t, http.StatusCreated)
	}
}

// resultsByID maps each returned MemoryResult id to its group and retrieval_path.
func resultsByID(t *testing.T, m map[string]any) map[string]string {
	t.Helper()
	out := map[string]string{}
	mem := obj(t, m, "memories")
	for _, g := range []string{"vivid", "associated", "reconstructed"} {
		for _, r := range arr(t, mem, g) {
			r := r.(map[string]any)
			out[str(t, r, "id")] = g + " " + str(t, r, "retrieval_path")
		}
	}
	return out
}

func TestRecallChainOverHTTP(t *testing.T) {
	ts := newTestServer(t)
	rememberChain(t, ts)
	a := chainJSON()["a"]
	tests := []struct {
		mode      string
		threshold float64
		want      map[string]string
	}{
		{"hybrid", 0.2, map[string]string{"a": "vivid direct", "b": "vivid direct", "c": "associated spreading: b -> c"}},
		{"hybrid", 0.1, map[string]string{"a": "vivid direct", "b": "vivid direct", "c": "associated spreading: b -> c", "d": "associated direct"}},
		{"similarity", 0.2, map[string]string{"a": "vivid direct", "b": "vivid direct"}},
		{"similarity", 0.1, map[string]string{"a": "vivid direct", "b": "vivid direct", "c": "associated direct", "d": "associated direct"}},
		{"spreading", 0.1, map[string]string{"a": "vivid direct", "b": "vivid direct", "c": "associated spreading: b -> c"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.mode, "/", tt.threshold), func(t *testing.T) {
			body := fmt.Sprintf(`{"embedding":%s,"mode":%q,"threshold":%v,"trace_activation":true}`, a, tt.mode, tt.threshold)
			m := ts.post(t, "/api/v1/memories/recall", body).expectStatus(t, http.StatusOK).object(t)
			got := resultsByID(t, m)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got  %v\nwant %v", got, tt.want)
			}
			for _, tr := range arr(t, m, "traces") {
				tr := tr.(map[string]any)
				id := str(t, tr, "memory_id")
				path := fmt.Sprint(arr(t, tr, "activation_path"))
				want := "[" + id + "]"
				if strings.Contains(tt.want[id], "spreading") {
					want = "[b c]"
				}
				if path != want {
					t.Errorf("trace of %s: %s, want %s", id, path, want)
				}
			}
			for _, r := range arr(t, obj(t, m, "memories"), "associated") {
				r := r.(map[string]any)
				if str(t, r, "id") == "c" && strings.HasPrefix(str(t, r, "retrieval_path"), "spreading") {
					if act, sim := num(t, r, "activation_level"), num(t, r, "similarity_score"); math.Abs(act-0.28125) > 1e-3 || math.Abs(sim-0.125) > 1e-3 {
						t.Errorf("c: activation_level %v similarity_score %v, want 0.28125 and 0.125", act, sim)
					}
				}
			}
		})
	}

	// The probabilistic query answers from the same result: its evidence chain names the path.
	pm := ts.get(t, "/api/v1/query/probabilistic?threshold=0.2&include_evidence=true&embedding="+url.QueryEscape(a)).expectStatus(t, http.StatusOK).object(t)
	found := false
	for _, e := range arr(t, pm, "evidence_chain") {
		e := e.(map[string]any)
		if str(t, e, "source_type") == "spreading_activation" && strings.Contains(str(t, e, "description"), "spreading: b -> c") {
			found = true
		}
	}
	if !found {
		t.Fatalf("evidence_chain does not name the spreading path b -> c: %v", pm["evidence_chain"])
	}

	// Another space sees none of it.
	other := ts.post(t, "/api/v1/memories/recall", fmt.Sprintf(`{"embedding":%s,"threshold":0}`, a), "X-Memory-Space", "other-space").expectStatus(t, http.StatusOK).object(t)
	if got := resultsByID(t, other); len(got) != 0 {
		t.Fatalf("other space recalls %v", got)
	}
}

func TestAssociationsRoute(t *testing.T) {
	ts := newTestServer(t)
	rememberChain(t, ts)
	ts.remember(t, "a memory of another space", "X-Memory-Space", "other-space")

	m := ts.get(t, "/api/v1/memories/b/associations").expectStatus(t, http.StatusOK).object(t)
	if str(t, m, "memory_id") != "b" || str(t, m, "memory_space_id") != "default" || num(t, m, "count") != 2 {
		t.Fatalf("associations of b: %v", m)
	}
	seen := map[string]bool{}
	for _, e := range arr(t, m, "associations") {
		e := e.(map[string]any)
		seen[str(t, e, "target_memory_id")] = true
		if str(t, e, "kind") != "similarity" || math.Abs(num(t, e, "weight")-0.75) > 1e-3 {
			t.Errorf("edge %v: want a similarity edge of weight 0.75", e)
		}
	}
	if !seen["a"] || !seen["c"] {
		t.Fatalf("associations of b lack a or c: %v", m)
	}
	if d := ts.get(t, "/api/v1/memories/d/associations").expectStatus(t, http.StatusOK).object(t); len(arr(t, d, "associations")) != 0 {
		t.Fatalf("d has no edge: %v", d)
	}

	notFound := []struct{ name, path, space string }{
		{"unknown id", "/api/v1/memories/nope/associations", ""},
		{"chain id asked in another space (header)", "/api/v1/memories/b/associations", "other-space"},
		{"chain id asked in another space (query)", "/api/v1/memories/b/associations?space=other-space", ""},
		{"space that does not exist", "/api/v1/memories/b/associations", "never-made"},
	}
	for _, tt := range notFound {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.space != "" {
				hdr = []string{"X-Memory-Space", tt.space}
			}
			a := ts.get(t, tt.path, hdr...)
			a.expectError(t, http.StatusNotFound, "MEMORY_NOT_FOUND")
			if strings.Contains(string(a.body), "chain") {
				t.Fatalf("404 reveals content: %s", a.body)
			}
		})
	}
	ts.do(t, req{method: http.MethodPost, path: "/api/v1/memories/b/associations"}).expectStatus(t, http.StatusMethodNotAllowed)
}
