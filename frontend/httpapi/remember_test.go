package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

func TestRememberAnswer(t *testing.T) {
	ts := newTestServer(t)
	for _, path := range []string{"/api/v1/memories/remember", "/api/v1/memories"} {
		t.Run(path, func(t *testing.T) {
			a := ts.post(t, path, `{"content":"the cat sat on the mat","tags":["pets"],"timestamp":"2024-05-01T12:00:00Z"}`)
			m := a.expectStatus(t, http.StatusCreated).object(t)
			id := str(t, m, "memory_id")
			if !strings.HasPrefix(id, "mem_") {
				t.Errorf("memory_id %q, want a generated mem_ id", id)
			}
			conf := obj(t, m, "storage_confidence")
			if v := num(t, conf, "value"); v < 0.69 || v > 0.71 {
				t.Errorf("storage_confidence.value %v, want the default 0.7", v)
			}
			if c := str(t, conf, "category"); c != "Medium" {
				t.Errorf("category %q, want Medium", c)
			}
			if str(t, conf, "reasoning") == "" {
				t.Error("reasoning is empty")
			}
			if s := str(t, m, "consolidation_state"); s != "Recent" {
				t.Errorf("consolidation_state %q", s)
			}
			if s := str(t, m, "observed_at"); s != "2024-05-01T12:00:00Z" {
				t.Errorf("observed_at %q, want the given timestamp", s)
			}
			if _, err := time.Parse(time.RFC3339, str(t, m, "stored_at")); err != nil {
				t.Errorf("stored_at: %v", err)
			}
			if links := arr(t, m, "auto_links"); len(links) != 0 {
				t.Errorf("auto_links %v without auto_link", links)
			}
			if str(t, m, "system_message") == "" {
				t.Error("system_message is empty")
			}
			got := ts.get(t, "/api/v1/memories/"+id).expectStatus(t, http.StatusOK).object(t)
			if str(t, got, "content") != "the cat sat on the mat" {
				t.Errorf("stored content %q", got["content"])
			}
		})
	}
}

func TestRememberClientFields(t *testing.T) {
	ts := newTestServer(t)
	body := fmt.Sprintf(`{"id":"note:1","content":"x","embedding":%s,"confidence":0.9,"memory_type":"procedural","tags":["a","b"],"unknown_field":{"ignored":true}}`, axisVectorJSON(2))
	m := ts.post(t, "/api/v1/memories/remember", body).expectStatus(t, http.StatusCreated).object(t)
	if id := str(t, m, "memory_id"); id != "note:1" {
		t.Fatalf("memory_id %q, want the client's id", id)
	}
	if c := str(t, obj(t, m, "storage_confidence"), "category"); c != "High" {
		t.Errorf("category %q for 0.9", c)
	}
	got := ts.get(t, "/api/v1/memories/note:1").expectStatus(t, http.StatusOK).object(t)
	if str(t, got, "memory_type") != "procedural" {
		t.Errorf("memory_type %v", got["memory_type"])
	}
	if e := arr(t, got, "embedding"); len(e) != testDim {
		t.Errorf("embedding has %d components", len(e))
	}
	if tags := arr(t, got, "tags"); len(tags) != 2 {
		t.Errorf("tags %v", tags)
	}
}

func TestRememberErrors(t *testing.T) {
	ts := newTestServer(t, withFrontend(func(o *frontend.Options) { o.MaxContentBytes = 64 }))
	long := strings.Repeat("x", 65)
	cases := []struct {
		name        string
		body        string
		contentType string
		header      map[string]string
		path        string
		status      int
		code        string
		words       []string
	}{
		{name: "malformed JSON", body: `{"content":`, status: 400, code: "BAD_REQUEST", words: []string{"malformed JSON"}},
		{name: "not an object", body: `["content"]`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"object"}},
		{name: "empty body", body: " ", status: 400, code: "BAD_REQUEST", words: []string{"empty"}},
		{name: "wrong content type", body: `{"content":"x"}`, contentType: "text/plain", status: 415, code: "UNSUPPORTED_MEDIA_TYPE", words: []string{"text/plain"}},
		{name: "a real form", body: `content=x`, contentType: "application/x-www-form-urlencoded", status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{name: "missing content", body: `{"tags":["a"]}`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"content"}},
		{name: "blank content", body: `{"content":"   "}`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"content"}},
		{name: "content not a string", body: `{"content":5}`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"content"}},
		{name: "content over the limit", body: `{"content":"` + long + `"}`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"content", "64"}},
		{name: "NaN embedding", body: `{"content":"x","embedding":[NaN,0,0,0,0,0,0,0]}`, status: 400, code: "BAD_REQUEST", words: []string{"malformed JSON", "NaN"}},
		{name: "infinite embedding", body: `{"content":"x","embedding":[0,1e999,0,0,0,0,0,0]}`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"embedding[1]"}},
		{name: "float32 overflow", body: `{"content":"x","embedding":[0,0,1e39,0,0,0,0,0]}`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"embedding[2]"}},
		{name: "embedding of strings", body: `{"content":"x","embedding":["a"]}`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"embedding[0]"}},
		{name: "embedding of the wrong length", body: `{"content":"x","embedding":[1,2,3]}`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"embedding", "3"}},
		{name: "confidence above 1", body: `{"content":"x","confidence":1.5}`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"confidence"}},
		{name: "negative confidence", body: `{"content":"x","confidence":-0.1}`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"confidence"}},
		{name: "confidence as text", body: `{"content":"x","confidence":"high"}`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"confidence"}},
		{name: "bad timestamp", body: `{"content":"x","timestamp":"yesterday"}`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"timestamp"}},
		{name: "bad memory_type", body: `{"content":"x","memory_type":"dream"}`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"memory_type"}},
		{name: "bad id", body: `{"content":"x","id":"a b"}`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"id"}},
		{name: "tags not strings", body: `{"content":"x","tags":[1]}`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"tags[0]"}},
		{name: "bad link_threshold", body: `{"content":"x","link_threshold":2}`, status: 400, code: "INVALID_MEMORY_INPUT", words: []string{"link_threshold"}},
		{name: "bad space header", body: `{"content":"x"}`, header: map[string]string{"X-Memory-Space": "Bad.Space"}, status: 400, code: "BAD_REQUEST", words: []string{"X-Memory-Space header"}},
		{name: "bad space query", body: `{"content":"x"}`, path: "/api/v1/memories/remember?space=../etc", status: 400, code: "BAD_REQUEST", words: []string{"space query parameter"}},
		{name: "bad body space", body: `{"content":"x","memory_space":"UPPER"}`, status: 400, code: "BAD_REQUEST", words: []string{"memory_space body field"}},
		{name: "two body spaces", body: `{"content":"x","memory_space":"aaa","memory_space_id":"bbb"}`, status: 400, code: "BAD_REQUEST", words: []string{"memory_space_id"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if path == "" {
				path = "/api/v1/memories/remember"
			}
			ts.do(t, req{method: http.MethodPost, path: path, body: c.body, contentType: c.contentType, header: c.header}).
				expectError(t, c.status, c.code, c.words...)
		})
	}
}

func TestRememberAcceptedContentTypes(t *testing.T) {
	ts := newTestServer(t)
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "application/x-www-form-urlencoded", "application/vnd.engram+json"} {
		t.Run(ct, func(t *testing.T) {
			ts.do(t, req{method: http.MethodPost, path: "/api/v1/memories/remember", body: `{"content":"curl"}`, contentType: ct}).
				expectStatus(t, http.StatusCreated)
		})
	}
	t.Run("no content type", func(t *testing.T) {
		hr, _ := http.NewRequest(http.MethodPost, "http://engram.test/api/v1/memories/remember", strings.NewReader(`{"content":"bare"}`))
		resp, err := ts.client.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status %d without Content-Type", resp.StatusCode)
		}
	})
}

func TestBodyTooLarge(t *testing.T) {
	ts := newTestServer(t, withFrontend(func(o *frontend.Options) { o.MaxBodyBytes = 4096 }))
	body := `{"content":"` + strings.Repeat("y", 64<<10) + `"}`
	ts.post(t, "/api/v1/memories/remember", body).expectError(t, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "4096")
	// The server stays usable.
	ts.remember(t, "small enough")
}

func TestRateLimit(t *testing.T) {
	ts := newTestServer(t)
	if _, _, err := ts.eng.CreateSpace("limited", engine.SpaceSettings{RateLimit: 2}); err != nil {
		t.Fatal(err)
	}
	ts.remember(t, "one", "X-Memory-Space", "limited")
	ts.remember(t, "two", "X-Memory-Space", "limited")
	a := ts.post(t, "/api/v1/memories/remember", `{"content":"three"}`, "X-Memory-Space", "limited")
	a.expectError(t, http.StatusTooManyRequests, "RATE_LIMITED", "limited")
	if ra, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || ra < 1 {
		t.Fatalf("Retry-After %q, want whole seconds >= 1", a.header.Get("Retry-After"))
	}
	// Another space is not affected.
	ts.remember(t, "elsewhere", "X-Memory-Space", "unlimited")
	// A batch larger than the burst can never pass: told so, not asked to retry forever.
	ts.post(t, "/api/v1/memories/batch", `[{"content":"a"},{"content":"b"},{"content":"c"}]`, "X-Memory-Space", "limited").
		expectError(t, http.StatusTooManyRequests, "RATE_LIMITED", "smaller batches")
}

func TestEpisodeRemember(t *testing.T) {
	ts := newTestServer(t)
	body := `{"what":"met Ada at the library","when":"2024-03-01T10:00:00Z","where":"library","who":["Ada"],"why":"research","how":"by chance","importance":0.9,"emotional_valence":0.5}`
	m := ts.post(t, "/api/v1/episodes/remember", body).expectStatus(t, http.StatusCreated).object(t)
	id := str(t, m, "memory_id")
	if s := str(t, m, "observed_at"); s != "2024-03-01T10:00:00Z" {
		t.Errorf("observed_at %q, want when", s)
	}
	got := ts.get(t, "/api/v1/memories/"+id).expectStatus(t, http.StatusOK).object(t)
	if str(t, got, "content") != "met Ada at the library" || str(t, got, "memory_type") != "episodic" {
		t.Fatalf("stored %v", got)
	}
	ep := obj(t, got, "episode")
	if str(t, ep, "where_location") != "library" || str(t, ep, "why") != "research" || str(t, ep, "how") != "by chance" {
		t.Errorf("episode fields %v", ep)
	}
	if who := arr(t, ep, "who"); len(who) != 1 || who[0] != "Ada" {
		t.Errorf("who %v", who)
	}
	if v := num(t, ep, "emotional_valence"); v != 0.5 {
		t.Errorf("emotional_valence %v", v)
	}

	for _, c := range []struct{ name, body, word string }{
		{"missing what", `{"when":"2024-03-01T10:00:00Z"}`, "what"},
		{"missing when", `{"what":"x"}`, "when"},
		{"bad when", `{"what":"x","when":"March"}`, "when"},
		{"valence out of range", `{"what":"x","when":"2024-03-01T10:00:00Z","emotional_valence":-2}`, "emotional_valence"},
		{"importance out of range", `{"what":"x","when":"2024-03-01T10:00:00Z","importance":7}`, "importance"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts.post(t, "/api/v1/episodes/remember", c.body).expectError(t, 400, "INVALID_MEMORY_INPUT", c.word)
		})
	}
}

func TestBatch(t *testing.T) {
	ts := newTestServer(t)
	t.Run("JSON array with a bad item", func(t *testing.T) {
		a := ts.post(t, "/api/v1/memories/batch", `[{"content":"first"},{"content":""},{"content":"third","id":"b3"}]`, "X-Memory-Space", "batchy")
		m := a.expectStatus(t, http.StatusOK).object(t)
		if n := num(t, m, "accepted"); n != 2 {
			t.Fatalf("accepted %v, want 2: %s", n, a.body)
		}
		idsGot := arr(t, m, "memory_ids")
		if len(idsGot) != 2 || idsGot[1] != "b3" {
			t.Fatalf("memory_ids %v", idsGot)
		}
		errs := arr(t, m, "errors")
		if len(errs) != 1 {
			t.Fatalf("errors %v", errs)
		}
		e := errs[0].(map[string]any)
		if num(t, e, "index") != 1 || !strings.Contains(str(t, e, "error"), "content") {
			t.Fatalf("error entry %v", e)
		}
		list := ts.get(t, "/api/v1/memories", "X-Memory-Space", "batchy").expectStatus(t, 200).object(t)
		if num(t, list, "count") != 2 {
			t.Fatalf("batchy holds %v memories", list["count"])
		}
	})
	t.Run("NDJSON", func(t *testing.T) {
		body := "{\"content\":\"n1\"}\n\n{\"content\":\"n2\"}\n{broken\n"
		m := ts.do(t, req{method: http.MethodPost, path: "/api/v1/memories/batch?space=ndjson", body: body, contentType: "application/x-ndjson"}).
			expectStatus(t, http.StatusOK).object(t)
		if num(t, m, "accepted") != 2 {
			t.Fatalf("accepted %v", m["accepted"])
		}
		errs := arr(t, m, "errors")
		if len(errs) != 1 || num(t, errs[0].(map[string]any), "index") != 2 {
			t.Fatalf("errors %v (blank lines do not count)", errs)
		}
	})
	t.Run("items name the space", func(t *testing.T) {
		m := ts.post(t, "/api/v1/memories/batch", `[{"content":"s1","memory_space":"item-space"},{"content":"s2"},{"content":"s3","memory_space":"other-space"}]`).
			expectStatus(t, http.StatusOK).object(t)
		if str(t, m, "memory_space_id") != "item-space" || num(t, m, "accepted") != 2 {
			t.Fatalf("answer %v", m)
		}
		if errs := arr(t, m, "errors"); len(errs) != 1 || num(t, errs[0].(map[string]any), "index") != 2 {
			t.Fatalf("errors %v", errs)
		}
	})
	for _, c := range []struct {
		name, body, contentType string
		status                  int
		code                    string
	}{
		{"not an array", `{"content":"x"}`, "application/json", 400, "INVALID_MEMORY_INPUT"},
		{"empty array", `[]`, "application/json", 400, "INVALID_MEMORY_INPUT"},
		{"wrong content type", `[{"content":"x"}]`, "text/csv", 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"malformed", `[{"content":"x"`, "application/json", 400, "BAD_REQUEST"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts.do(t, req{method: http.MethodPost, path: "/api/v1/memories/batch", body: c.body, contentType: c.contentType}).
				expectError(t, c.status, c.code)
		})
	}
	t.Run("too many items", func(t *testing.T) {
		small := newTestServer(t, withFrontend(func(o *frontend.Options) { o.MaxBatchItems = 2 }))
		small.post(t, "/api/v1/memories/batch", `[{"content":"a"},{"content":"b"},{"content":"c"}]`).
			expectError(t, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "limit is 2")
	})
}

// TestRememberAnswerTexts: the reasoning and system message of a remember answer, written
// straight into the answer, read exactly as the sentences they replace (built with
// fmt.Sprintf and then JSON-encoded), for every sync mode, with and without auto_link, for
// ids and space names that need escaping.
func TestRememberAnswerTexts(t *testing.T) {
	ts := newTestServer(t)
	spaces := map[string]*engine.Space{}
	for _, mode := range []string{"always", "interval", "never"} {
		sp, _, err := ts.eng.CreateSpace("texts-"+mode, engine.SpaceSettings{Dimension: testDim, WALSync: mode})
		if err != nil {
			t.Fatal(err)
		}
		spaces[mode] = sp
	}
	wantMessage := func(sp *engine.Space, res *engine.RememberResult, autoLink bool) string {
		durability := map[string]string{
			"interval": "logged; the write-ahead log is flushed to disk within the sync interval",
			"never":    "logged without flushing the write-ahead log to disk (wal_sync = never)",
			"always":   "durably logged (write-ahead log flushed to disk)",
		}[sp.Settings().WALSync]
		links := "association edges are built in the background"
		if autoLink {
			links = fmt.Sprintf("%d association edges built", len(res.Links))
		}
		return fmt.Sprintf("Memory %s stored in space '%s': %s; %s.", res.Memory.ID, sp.ID(), durability, links)
	}
	wantReasoning := func(v float32, given bool) string {
		if given {
			return fmt.Sprintf("Stored with the confidence the client gave (%.2f, %s).", v, engine.ConfidenceCategory(v))
		}
		return fmt.Sprintf("No confidence was given; the default %.2f applies.", v)
	}
	for _, tc := range []struct {
		name     string
		mode     string
		id       string
		links    int
		autoLink bool
		conf     float32
		given    bool
	}{
		{"plain", "always", "m-1", 0, false, 0.7, false},
		{"quote and backslash in id", "interval", `a"b\c`, 0, false, 0.125, true},
		{"control and line separator", "never", "x\ny\u2028z", 2, true, 0.995, true},
		{"invalid utf-8", "always", "bad\xffid", 0, true, 0, true},
		{"non-ascii", "interval", "größe-ü", 11, true, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := spaces[tc.mode]
			res := &engine.RememberResult{Memory: engine.Memory{ID: tc.id, Confidence: tc.conf}, Links: make([]engine.AutoLink, tc.links)}
			if got, want := string(appendRememberMessage(nil, sp, res, tc.autoLink)), string(appendString(nil, wantMessage(sp, res, tc.autoLink))); got != want {
				t.Errorf("system message:\n got %s\nwant %s", got, want)
			}
			if got, want := string(appendStorageReasoning(nil, tc.conf, tc.given)), string(appendString(nil, wantReasoning(tc.conf, tc.given))); got != want {
				t.Errorf("reasoning:\n got %s\nwant %s", got, want)
			}
		})
	}
}
