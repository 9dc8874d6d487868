package httpapi

import (
	"net/http"
	"net/url"
	"testing"
)

// TestIsolation writes in tenant-a and reads from tenant-b, which exists, and from
// tenant-c, which does not: no route shows tenant-a's memory.
func TestIsolation(t *testing.T) {
	ts := newTestServer(t)
	id := ts.remember(t, "secret plans of tenant a", "X-Memory-Space", "tenant-a")
	ts.remember(t, "unrelated note of tenant b", "X-Memory-Space", "tenant-b")

	// tenant-a sees its memory on every read route.
	if got := recallIDs(t, ts.get(t, "/api/v1/memories/recall?query=secret+plans", "X-Memory-Space", "tenant-a")); !contains(got, id) {
		t.Fatalf("tenant-a recall %v misses its own memory", got)
	}

	for _, other := range []string{"tenant-b", "tenant-c"} {
		t.Run(other, func(t *testing.T) {
			h := []string{"X-Memory-Space", other}
			if got := recallIDs(t, ts.get(t, "/api/v1/memories/recall?query=secret+plans&threshold=0", h...)); contains(got, id) {
				t.Errorf("recall from %s returned tenant-a's memory", other)
			}
			list := ts.get(t, "/api/v1/memories", h...).expectStatus(t, http.StatusOK).object(t)
			if contains(ids(t, arr(t, list, "memories")), id) {
				t.Errorf("list of %s shows tenant-a's memory", other)
			}
			ts.get(t, "/api/v1/memories/"+id, h...).expectError(t, http.StatusNotFound, "MEMORY_NOT_FOUND")
			search := ts.get(t, "/api/v1/memories/search?query=secret", h...).expectStatus(t, http.StatusOK).object(t)
			if contains(ids(t, arr(t, search, "memories")), id) {
				t.Errorf("search of %s shows tenant-a's memory", other)
			}
			prob := ts.get(t, "/api/v1/query/probabilistic?query=secret", h...).expectStatus(t, http.StatusOK).object(t)
			if contains(ids(t, arr(t, prob, "memories")), id) {
				t.Errorf("probabilistic query of %s shows tenant-a's memory", other)
			}
			ts.do(t, req{method: http.MethodDelete, path: "/api/v1/memories/" + id, header: pairs(h)}).
				expectError(t, http.StatusNotFound, "MEMORY_NOT_FOUND")
		})
	}
	// The reads above did not create tenant-c.
	for _, sp := range ts.eng.Spaces() {
		if sp.ID() == "tenant-c" {
			t.Fatal("a read created space tenant-c")
		}
	}
	// tenant-a's memory survived tenant-b's delete attempt.
	ts.get(t, "/api/v1/memories/"+id, "X-Memory-Space", "tenant-a").expectStatus(t, http.StatusOK)
}

// TestSpaceRouting checks each source of the space and their precedence.
func TestSpaceRouting(t *testing.T) {
	ts := newTestServer(t)
	cases := []struct {
		name   string
		path   string
		body   string
		header []string
		want   string
	}{
		{"default", "/api/v1/memories/remember", `{"content":"c"}`, nil, "default"},
		{"query", "/api/v1/memories/remember?space=by-query", `{"content":"c"}`, nil, "by-query"},
		{"body memory_space", "/api/v1/memories/remember", `{"content":"c","memory_space":"by-body"}`, nil, "by-body"},
		{"body memory_space_id", "/api/v1/memories/remember", `{"content":"c","memory_space_id":"by-body-id"}`, nil, "by-body-id"},
		{"header beats query and body", "/api/v1/memories/remember?space=q-loses", `{"content":"c","memory_space":"b-loses"}`, []string{"X-Memory-Space", "h-wins"}, "h-wins"},
		{"header name is case-insensitive", "/api/v1/memories/remember", `{"content":"c"}`, []string{"x-memory-space", "lower-header"}, "lower-header"},
		{"query beats body", "/api/v1/memories/remember?space=q-wins", `{"content":"c","memory_space":"b-loses-2"}`, nil, "q-wins"},
		{"trimmed", "/api/v1/memories/remember?space=%20padded%20", `{"content":"c"}`, nil, "padded"},
		{"episodes route", "/api/v1/episodes/remember?space=episodic-q", `{"what":"w","when":"2024-01-01T00:00:00Z"}`, nil, "episodic-q"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := ts.post(t, c.path, c.body, c.header...).expectStatus(t, http.StatusCreated).object(t)
			if got := str(t, m, "memory_space_id"); got != c.want {
				t.Fatalf("stored in %q, want %q", got, c.want)
			}
			id := str(t, m, "memory_id")
			ts.get(t, "/api/v1/memories/"+id+"?space="+url.QueryEscape(c.want)).expectStatus(t, http.StatusOK)
		})
	}
	for _, loser := range []string{"q-loses", "b-loses", "b-loses-2"} {
		for _, sp := range ts.eng.Spaces() {
			if sp.ID() == loser {
				t.Errorf("space %q was created although a higher-priority source named another", loser)
			}
		}
	}
	// Reads follow the same rule: the POST recall body is below the query parameter.
	id := ts.remember(t, "routing by recall body", "X-Memory-Space", "recall-body")
	got := recallIDs(t, ts.post(t, "/api/v1/memories/recall", `{"query":"routing recall body","memory_space":"recall-body"}`))
	if !contains(got, id) {
		t.Fatalf("POST recall with body memory_space: %v", got)
	}
	got = recallIDs(t, ts.post(t, "/api/v1/memories/recall?space=default", `{"query":"routing recall body","memory_space":"recall-body"}`))
	if contains(got, id) {
		t.Fatal("the body space won over the query parameter on recall")
	}
}

// TestPinnedListener serves a second listener pinned to one space.
func TestPinnedListener(t *testing.T) {
	ts := newTestServer(t)
	pinnedLn := newInmemoryListener(t)
	if err := ts.srv.ServeOn(pinnedLn, "pinned"); err != nil {
		t.Fatal(err)
	}
	pc := clientFor(pinnedLn, "127.0.0.1")
	m := ts.send(t, pc, req{method: http.MethodPost, path: "/api/v1/memories/remember", body: `{"content":"pinned note"}`}).
		expectStatus(t, http.StatusCreated).object(t)
	if str(t, m, "memory_space_id") != "pinned" {
		t.Fatalf("stored in %v on the pinned listener", m["memory_space_id"])
	}
	ts.send(t, pc, req{method: http.MethodPost, path: "/api/v1/memories/remember", body: `{"content":"x"}`, header: map[string]string{"X-Memory-Space": "pinned"}}).
		expectStatus(t, http.StatusCreated)
	for _, c := range []struct {
		name string
		r    req
		word string
	}{
		{"header", req{path: "/api/v1/memories", header: map[string]string{"X-Memory-Space": "other"}}, "X-Memory-Space header"},
		{"query", req{path: "/api/v1/memories?space=other"}, "space query parameter"},
		{"body", req{method: http.MethodPost, path: "/api/v1/memories/remember", body: `{"content":"x","memory_space":"other"}`}, "memory_space body field"},
		{"spaces path", req{path: "/api/v1/spaces/default"}, "path"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts.send(t, pc, c.r).expectError(t, http.StatusBadRequest, "BAD_REQUEST", c.word, "pinned")
		})
	}
	// Only the pinned space is visible there.
	spaces := ts.send(t, pc, req{path: "/api/v1/spaces"}).expectStatus(t, 200).object(t)
	if got := ids(t, arr(t, spaces, "spaces")); len(got) != 1 || got[0] != "pinned" {
		t.Fatalf("pinned listener lists spaces %v", got)
	}
}
