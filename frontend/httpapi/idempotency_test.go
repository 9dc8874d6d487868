package httpapi

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/engram-go/engram/frontend"
)

func TestIdempotencyKey(t *testing.T) {
	ts := newTestServer(t)
	key := func(k, space string) []string {
		return []string{frontend.IdempotencyHeader, k, "X-Memory-Space", space}
	}
	memories := func(space string) int {
		sp, err := ts.eng.Space(space)
		if err != nil {
			return 0
		}
		return sp.Stats().Memories
	}

	first := ts.post(t, "/api/v1/memories/remember", `{"content":"paid invoice 7"}`, key("op-1", "alpha")...).expectStatus(t, http.StatusCreated)
	id := first.object(t)["memory_id"].(string)
	want, _ := frontend.IdempotentID("alpha", "op-1")
	if id != want || !strings.HasPrefix(id, "mem_") || len(id) != len("mem_")+24 {
		t.Fatalf("memory id %q, want %q", id, want)
	}
	if first.header.Get(replayedHeader) != "" {
		t.Fatal("first attempt marked as replayed")
	}

	cases := []struct {
		name, body, key, space string
		status                 int
		code, wantID           string
		replayed               bool
	}{
		{"retry", `{"content":"paid invoice 7"}`, "op-1", "alpha", http.StatusCreated, "", id, true},
		{"retry as episode route shape", `{"content":"paid invoice 7","tags":["x"]}`, "op-1", "alpha", http.StatusCreated, "", id, true},
		{"same key, other content", `{"content":"paid invoice 8"}`, "op-1", "alpha", http.StatusConflict, frontend.CodeConflict, "", false},
		{"same key, other space", `{"content":"paid invoice 7"}`, "op-1", "beta", http.StatusCreated, "", "", false},
		{"explicit id wins over the key", `{"content":"mine","id":"client-1"}`, "op-2", "alpha", http.StatusCreated, "", "client-1", false},
		{"key too long", `{"content":"x"}`, strings.Repeat("k", frontend.MaxIdempotencyKey+1), "alpha", http.StatusBadRequest, frontend.CodeInvalidInput, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := ts.post(t, "/api/v1/memories/remember", tc.body, key(tc.key, tc.space)...)
			if tc.code != "" {
				a.expectError(t, tc.status, tc.code)
				return
			}
			a.expectStatus(t, tc.status)
			got := a.object(t)["memory_id"].(string)
			if tc.wantID != "" && got != tc.wantID {
				t.Fatalf("memory id %q, want %q", got, tc.wantID)
			}
			if tc.wantID == "" && got == id {
				t.Fatalf("another space got the same memory id %q", got)
			}
			if (a.header.Get(replayedHeader) == "true") != tc.replayed {
				t.Fatalf("%s = %q, want replayed %v", replayedHeader, a.header.Get(replayedHeader), tc.replayed)
			}
		})
	}
	// One memory per key and space: the retries wrote nothing; beta holds its own.
	if n := memories("alpha"); n != 2 {
		t.Fatalf("alpha holds %d memories, want 2 (op-1 once, client-1)", n)
	}
	if n := memories("beta"); n != 1 {
		t.Fatalf("beta holds %d memories, want 1", n)
	}
	ts.get(t, "/api/v1/memories/"+id, "X-Memory-Space", "beta").expectStatus(t, http.StatusNotFound)
	if got := ts.get(t, "/api/v1/memories/"+id, "X-Memory-Space", "alpha").expectStatus(t, http.StatusOK).object(t)["content"]; got != "paid invoice 7" {
		t.Fatalf("stored content %v: the conflicting request changed it", got)
	}
}

func TestIdempotencyKeyConcurrentRetries(t *testing.T) {
	ts := newTestServer(t)
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := ts.post(t, "/api/v1/memories/remember", `{"content":"raced"}`, frontend.IdempotencyHeader, "race", "X-Memory-Space", "gamma")
			if a.status == http.StatusCreated {
				ids[i], _ = a.object(t)["memory_id"].(string)
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("ids %q: every attempt must answer the one memory", ids)
		}
	}
	if sp, _ := ts.eng.Space("gamma"); sp.Stats().Memories != 1 {
		t.Fatalf("gamma holds %d memories, want 1", sp.Stats().Memories)
	}
}

func TestIdempotencyKeyBatch(t *testing.T) {
	ts := newTestServer(t)
	body := `[{"content":"one"},{"content":"two"},{"content":"three","id":"own"}]`
	first := ts.post(t, "/api/v1/memories/batch", body, frontend.IdempotencyHeader, "b-1", "X-Memory-Space", "delta").expectStatus(t, http.StatusOK)
	again := ts.post(t, "/api/v1/memories/batch", body, frontend.IdempotencyHeader, "b-1", "X-Memory-Space", "delta").expectStatus(t, http.StatusOK)
	a, b := first.object(t)["memory_ids"].([]any), again.object(t)["memory_ids"].([]any)
	if len(a) != 3 || len(b) != 3 {
		t.Fatalf("memory ids %v and %v", a, b)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("retry ids %v, want %v", b, a)
		}
	}
	if want, _ := frontend.IdempotentID("delta", frontend.BatchKey("b-1", 1)); a[1] != want {
		t.Fatalf("item 1 id %v, want %s", a[1], want)
	}
	if sp, _ := ts.eng.Space("delta"); sp.Stats().Memories != 3 {
		t.Fatalf("delta holds %d memories, want 3", sp.Stats().Memories)
	}
	// Item 0 again under the same key with other content: refused by index, item 1 kept.
	c := ts.post(t, "/api/v1/memories/batch", `[{"content":"uno"},{"content":"two"}]`, frontend.IdempotencyHeader, "b-1", "X-Memory-Space", "delta").expectStatus(t, http.StatusOK)
	obj := c.object(t)
	if errs := obj["errors"].([]any); len(errs) != 1 || !strings.Contains(string(c.body), "content differs") {
		t.Fatalf("answer %s, want item 0 refused", c.body)
	}
	if sp, _ := ts.eng.Space("default"); sp != nil && sp.Stats().Memories != 0 {
		t.Fatal("default space got memories")
	}
}
