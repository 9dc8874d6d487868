package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestRecallAnswer(t *testing.T) {
	ts := newTestServer(t)
	target := ts.remember(t, "the lighthouse keeper painted the door blue")
	ts.remember(t, "groceries: milk, bread and eggs")

	a := ts.get(t, "/api/v1/memories/recall?query=lighthouse+keeper+door")
	m := a.expectStatus(t, http.StatusOK).object(t)
	mem := obj(t, m, "memories")
	vivid := arr(t, mem, "vivid")
	if len(vivid) == 0 || str(t, vivid[0].(map[string]any), "id") != target {
		t.Fatalf("a query whose words all occur in a memory must return it first in vivid: %s", a.body)
	}
	r := vivid[0].(map[string]any)
	for _, k := range []string{"id", "content", "confidence", "activation_level", "similarity_score", "retrieval_path",
		"observed_at", "last_access", "tags", "memory_type", "relevance_explanation"} {
		if _, ok := r[k]; !ok {
			t.Errorf("MemoryResult lacks %q", k)
		}
	}
	if str(t, r, "retrieval_path") != "direct" {
		t.Errorf("retrieval_path %q for a direct match", r["retrieval_path"])
	}
	conf := obj(t, r, "confidence")
	if str(t, conf, "category") == "" || num(t, conf, "value") <= 0 {
		t.Errorf("confidence %v", conf)
	}
	rc := obj(t, m, "recall_confidence")
	if num(t, rc, "value") <= 0 {
		t.Errorf("recall_confidence %v for a hit", rc)
	}
	qa := obj(t, m, "query_analysis")
	for _, k := range []string{"understood_intent", "search_strategy", "cognitive_load"} {
		if str(t, qa, k) == "" {
			t.Errorf("query_analysis.%s is empty", k)
		}
	}
	arr(t, qa, "suggestions")
	if m["metadata"] != nil || m["traces"] != nil {
		t.Errorf("metadata %v and traces %v must be null unless asked for", m["metadata"], m["traces"])
	}
	if str(t, m, "system_message") == "" {
		t.Error("system_message is empty")
	}

	// A second recall sees the access of the first.
	again := ts.get(t, "/api/v1/memories/recall?query=lighthouse+keeper+door").object(t)
	first := arr(t, obj(t, again, "memories"), "vivid")[0].(map[string]any)
	if _, err := time.Parse(time.RFC3339, str(t, first, "last_access")); err != nil {
		t.Errorf("last_access after a recall: %v", err)
	}
}

func TestRecallOptions(t *testing.T) {
	ts := newTestServer(t)
	tagged := ts.post(t, "/api/v1/memories/remember", `{"content":"red apples in autumn","tags":["fruit","autumn"],"timestamp":"2024-09-01T00:00:00Z"}`).
		expectStatus(t, 201).object(t)["memory_id"].(string)
	ts.post(t, "/api/v1/memories/remember", `{"content":"red cars in spring","tags":["cars"],"timestamp":"2024-04-01T00:00:00Z"}`).expectStatus(t, 201)

	m := ts.get(t, "/api/v1/memories/recall?query=red&include_metadata=true&trace_activation=true&threshold=0").expectStatus(t, 200).object(t)
	md := obj(t, m, "metadata")
	if num(t, md, "total_memories_searched") != 2 {
		t.Errorf("total_memories_searched %v", md["total_memories_searched"])
	}
	for _, k := range []string{"activation_spread_hops", "processing_time_ms"} {
		num(t, md, k)
	}
	arr(t, md, "tiers_searched")
	traces := arr(t, m, "traces")
	if len(traces) == 0 {
		t.Fatal("traces empty with trace_activation")
	}
	tr := traces[0].(map[string]any)
	str(t, tr, "memory_id")
	num(t, tr, "activation_level")
	arr(t, tr, "activation_path")

	cases := []struct {
		name  string
		query string
		want  []string // ids that must be present
		not   []string
	}{
		{"required tag", "query=red&threshold=0&required_tags=fruit", []string{tagged}, nil},
		{"excluded tag", "query=red&threshold=0&excluded_tags=fruit,cars", nil, []string{tagged}},
		{"time window", "query=red&threshold=0&from_time=2024-08-01T00:00:00Z&to_time=2024-10-01T00:00:00Z", []string{tagged}, nil},
		{"outside the window", "query=red&threshold=0&to_time=2024-05-01T00:00:00Z", nil, []string{tagged}},
		{"similarity mode", "query=apples&mode=similarity", []string{tagged}, nil},
		{"embedding cue", "embedding=" + url.QueryEscape(axisVectorJSON(0)) + "&threshold=0", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := recallIDs(t, ts.get(t, "/api/v1/memories/recall?"+c.query))
			for _, w := range c.want {
				if !contains(got, w) {
					t.Errorf("missing %s in %v", w, got)
				}
			}
			for _, n := range c.not {
				if contains(got, n) {
					t.Errorf("filtered %s still returned", n)
				}
			}
		})
	}
	t.Run("POST body", func(t *testing.T) {
		got := recallIDs(t, ts.post(t, "/api/v1/memories/recall", `{"query":"red","threshold":0,"required_tags":["fruit"],"max_results":5,"include_metadata":true}`))
		if len(got) != 1 || got[0] != tagged {
			t.Fatalf("POST recall %v", got)
		}
	})
	t.Run("max_results", func(t *testing.T) {
		if got := recallIDs(t, ts.get(t, "/api/v1/memories/recall?query=red&threshold=0&max_results=1")); len(got) != 1 {
			t.Fatalf("max_results=1 returned %d", len(got))
		}
	})
}

func TestRecallParameterErrors(t *testing.T) {
	ts := newTestServer(t)
	ts.remember(t, "something")
	for _, c := range []struct{ query, word string }{
		{"", "query"},
		{"query=%20", "query"},
		{"query=x&max_results=0", "max_results"},
		{"query=x&max_results=1001", "max_results"},
		{"query=x&max_results=ten", "max_results"},
		{"query=x&threshold=2", "threshold"},
		{"query=x&threshold=abc", "threshold"},
		{"query=x&mode=telepathy", "mode"},
		{"query=x&trace_activation=maybe", "trace_activation"},
		{"query=x&include_metadata=2", "include_metadata"},
		{"query=x&from_time=yesterday", "from_time"},
		{"query=x&to_time=2024-13-01", "to_time"},
		{"query=x&from_time=2024-02-01T00:00:00Z&to_time=2024-01-01T00:00:00Z", "to_time"},
		{"embedding=notjson", "embedding"},
		{"embedding=" + url.QueryEscape("[1,2]"), "embedding"},
		{"embedding=" + url.QueryEscape(`["a"]`), "embedding[0]"},
	} {
		t.Run(c.query, func(t *testing.T) {
			a := ts.get(t, "/api/v1/memories/recall?"+c.query)
			if a.status != 400 {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			var code string
			if strings.Contains(string(a.body), "INVALID_MEMORY_INPUT") {
				code = "INVALID_MEMORY_INPUT"
			} else {
				code = "BAD_REQUEST"
			}
			a.expectError(t, 400, code, c.word)
		})
	}
	ts.post(t, "/api/v1/memories/recall", `{"query":"x","max_results":[1]}`).expectError(t, 400, "BAD_REQUEST", "max_results")
	ts.do(t, req{method: http.MethodPost, path: "/api/v1/memories/recall", body: "query=x", contentType: "application/x-www-form-urlencoded"}).
		expectError(t, 415, "UNSUPPORTED_MEDIA_TYPE")
}

func TestRecallUnknownSpaceIsEmpty(t *testing.T) {
	ts := newTestServer(t)
	m := ts.get(t, "/api/v1/memories/recall?query=anything&include_metadata=true&trace_activation=true", "X-Memory-Space", "nobody-here").
		expectStatus(t, http.StatusOK).object(t)
	mem := obj(t, m, "memories")
	for _, k := range []string{"vivid", "associated", "reconstructed"} {
		if len(arr(t, mem, k)) != 0 {
			t.Errorf("%s not empty", k)
		}
	}
	if len(arr(t, m, "traces")) != 0 {
		t.Errorf("traces %v", m["traces"])
	}
	obj(t, m, "metadata")
	if v := num(t, obj(t, m, "recall_confidence"), "value"); v != 0 {
		t.Errorf("recall_confidence %v for no result", v)
	}
}

func TestRecallWithAutoCreateOff(t *testing.T) {
	ts := newTestServer(t, withEngineAutoCreate(false))
	ts.get(t, "/api/v1/memories/recall?query=x", "X-Memory-Space", "missing").expectError(t, 404, "SPACE_NOT_FOUND")
	ts.get(t, "/api/v1/memories", "X-Memory-Space", "missing").expectError(t, 404, "SPACE_NOT_FOUND")
	ts.post(t, "/api/v1/memories/remember", `{"content":"x"}`, "X-Memory-Space", "missing").expectError(t, 404, "SPACE_NOT_FOUND")
}

func TestProbabilisticQuery(t *testing.T) {
	ts := newTestServer(t)
	for i := 0; i < 3; i++ {
		ts.remember(t, fmt.Sprintf("river delta sediment sample %d", i))
	}
	m := ts.get(t, "/api/v1/query/probabilistic?query=river+delta+sediment&include_evidence=true&include_uncertainty=true").
		expectStatus(t, http.StatusOK).object(t)
	if n := len(arr(t, m, "memories")); n != 3 {
		t.Fatalf("%d memories", n)
	}
	ci := obj(t, m, "confidence_interval")
	lo, up, pt, w := num(t, ci, "lower"), num(t, ci, "upper"), num(t, ci, "point"), num(t, ci, "width")
	if !(0 <= lo && lo <= pt && pt <= up && up <= 1) || w < 0 || w-(up-lo) > 1e-9 || (up-lo)-w > 1e-9 {
		t.Fatalf("interval lower %v point %v upper %v width %v", lo, pt, up, w)
	}
	ev := arr(t, m, "evidence_chain")
	if len(ev) != 3 {
		t.Fatalf("evidence_chain %v", ev)
	}
	e := ev[0].(map[string]any)
	str(t, e, "source_type")
	num(t, e, "strength")
	str(t, e, "description")
	if len(arr(t, m, "uncertainty_sources")) == 0 {
		t.Fatal("uncertainty_sources empty")
	}

	plain := ts.get(t, "/api/v1/query/probabilistic?query=river").expectStatus(t, 200).object(t)
	if plain["evidence_chain"] != nil || plain["uncertainty_sources"] != nil {
		t.Fatalf("evidence and uncertainty must be null unless asked for: %v", plain)
	}
	none := ts.get(t, "/api/v1/query/probabilistic?query=zebra", "X-Memory-Space", "empty-space").expectStatus(t, 200).object(t)
	nci := obj(t, none, "confidence_interval")
	if num(t, nci, "lower") != 0 || num(t, nci, "upper") != 1 {
		t.Fatalf("no evidence must give the interval [0, 1]: %v", nci)
	}
	ts.get(t, "/api/v1/query/probabilistic").expectError(t, 400, "BAD_REQUEST", "query")
}

func TestIntervalOf(t *testing.T) {
	cases := []struct {
		name   string
		point  float64
		scores []float64
	}{
		{"one result", 0.9, []float64{0.9}},
		{"agreeing", 0.8, []float64{0.8, 0.8, 0.8, 0.8}},
		{"disagreeing", 0.6, []float64{0.95, 0.2, 0.7}},
		{"certain", 1, []float64{1, 1}},
		{"zero", 0, []float64{0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ci := intervalOf(c.point, c.scores)
			if !(0 <= ci.Lower && ci.Lower <= ci.Point && ci.Point <= ci.Upper && ci.Upper <= 1) {
				t.Fatalf("interval %+v does not bracket the point within [0, 1]", ci)
			}
		})
	}
	few := intervalOf(0.8, []float64{0.8})
	many := intervalOf(0.8, []float64{0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8})
	if many.Width >= few.Width {
		t.Fatalf("more agreeing evidence must narrow the interval: %v vs %v", many.Width, few.Width)
	}
	spread := intervalOf(0.6, []float64{0.95, 0.2, 0.95, 0.2})
	tight := intervalOf(0.6, []float64{0.6, 0.6, 0.6, 0.6})
	if spread.Width <= tight.Width {
		t.Fatalf("disagreeing scores must widen the interval: %v vs %v", spread.Width, tight.Width)
	}
}
