package httpapi

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/frontendtest"
	"github.com/engram-go/engram/internal/enginetest"
)

func TestSpacesRoutes(t *testing.T) {
	ts := newTestServer(t)
	a := ts.post(t, "/api/v1/spaces", `{"id":"projects","hot_capacity":500,"rate_limit":10}`)
	m := a.expectStatus(t, http.StatusCreated).object(t)
	if str(t, m, "id") != "projects" || m["created"] != true {
		t.Fatalf("create answer %v", m)
	}
	if hc := num(t, obj(t, m, "settings"), "hot_capacity"); hc != 500 {
		t.Errorf("hot_capacity %v", hc)
	}
	again := ts.post(t, "/api/v1/spaces", `{"id":"projects"}`).expectStatus(t, http.StatusOK).object(t)
	if again["created"] != false {
		t.Errorf("second create %v", again)
	}
	ts.remember(t, "a project memory", "X-Memory-Space", "projects")

	list := ts.get(t, "/api/v1/spaces").expectStatus(t, http.StatusOK).object(t)
	spaces := arr(t, list, "spaces")
	if got := ids(t, spaces); len(got) != 2 || got[0] != "default" || got[1] != "projects" {
		t.Fatalf("spaces %v, want [default projects] sorted", got)
	}
	p := spaces[1].(map[string]any)
	if num(t, p, "memories") != 1 || !strings.HasSuffix(str(t, p, "persistence_root"), "projects") {
		t.Errorf("entry %v", p)
	}
	if _, err := time.Parse(time.RFC3339, str(t, p, "created_at")); err != nil {
		t.Errorf("created_at: %v", err)
	}

	d := ts.get(t, "/api/v1/spaces/projects").expectStatus(t, http.StatusOK).object(t)
	if num(t, obj(t, d, "stats"), "hot") != 1 {
		t.Errorf("details %v", d)
	}
	// The details carry the background lanes' lag as introspect reports it; once the
	// lanes have caught up both read the same figures.
	for {
		in := obj(t, ts.get(t, "/api/v1/system/introspect", "X-Memory-Space", "projects").expectStatus(t, http.StatusOK).object(t), "metrics")
		if num(t, in, "index_lag_rows") != 0 || num(t, in, "link_queue") != 0 {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		st := obj(t, ts.get(t, "/api/v1/spaces/projects").expectStatus(t, http.StatusOK).object(t), "stats")
		for details, introspect := range map[string]string{"index_lag": "index_lag_rows", "indexed_rows": "indexed_rows",
			"index_lag_work_ms": "index_lag_work_ms", "link_lag_work_ms": "link_lag_work_ms", "background_share": "background_share"} {
			if got, want := num(t, st, details), num(t, in, introspect); got != want {
				t.Errorf("stats.%s = %v, introspect %s = %v", details, got, introspect, want)
			}
		}
		if share := num(t, st, "background_share"); share != 0.05 {
			t.Errorf("stats.background_share = %v, want the base share 0.05 with no lag", share)
		}
		break
	}
	ts.get(t, "/api/v1/spaces/absent").expectError(t, 404, "SPACE_NOT_FOUND")
	ts.get(t, "/api/v1/spaces/No.Good").expectError(t, 400, "BAD_REQUEST", "path")
	ts.do(t, req{method: http.MethodDelete, path: "/api/v1/spaces/default"}).expectError(t, http.StatusConflict, "CONFLICT")
	ts.do(t, req{method: http.MethodDelete, path: "/api/v1/spaces/absent"}).expectError(t, 404, "SPACE_NOT_FOUND")
	ts.do(t, req{method: http.MethodDelete, path: "/api/v1/spaces/projects"}).expectStatus(t, http.StatusOK)
	ts.get(t, "/api/v1/spaces/projects").expectError(t, 404, "SPACE_NOT_FOUND")

	for _, c := range []struct{ name, body, code, word string }{
		{"no id", `{}`, "INVALID_MEMORY_INPUT", "id"},
		{"bad id", `{"id":"A"}`, "BAD_REQUEST", "id body field"},
		{"unknown setting", `{"id":"abc","colour":"blue"}`, "INVALID_MEMORY_INPUT", "colour"},
		{"wrong type", `{"id":"abc","hot_capacity":"big"}`, "INVALID_MEMORY_INPUT", "hot_capacity"},
		{"negative", `{"id":"abc","hot_capacity":-1}`, "INVALID_MEMORY_INPUT", "hot_capacity"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts.post(t, "/api/v1/spaces", c.body).expectError(t, 400, c.code, c.word)
		})
	}
}

// healthSpaceKeys is the exact key set of a health entry (docs/api.md, "System"; the
// operations guide parses it).
var healthSpaceKeys = []string{"space", "memories", "pressure", "wal_lag_ms", "consolidation_rate", "tiers"}

func TestSystemHealth(t *testing.T) {
	ts := newTestServer(t)
	ts.remember(t, "one", "X-Memory-Space", "alpha")
	ts.remember(t, "two", "X-Memory-Space", "alpha")

	a := ts.get(t, "/api/v1/system/health").expectStatus(t, http.StatusOK)
	var h struct {
		Status    string                       `json:"status"`
		Timestamp string                       `json:"timestamp"`
		Spaces    []map[string]json.RawMessage `json:"spaces"`
	}
	if err := json.Unmarshal(a.body, &h); err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	_ = json.Unmarshal(a.body, &top)
	if len(top) != 3 {
		t.Errorf("top-level keys %v, want status, timestamp, spaces", top)
	}
	if h.Status != "healthy" {
		t.Errorf("status %q", h.Status)
	}
	if _, err := time.Parse(time.RFC3339, h.Timestamp); err != nil {
		t.Errorf("timestamp: %v", err)
	}
	if len(h.Spaces) != 2 {
		t.Fatalf("%d spaces, want default and alpha", len(h.Spaces))
	}
	for _, sp := range h.Spaces {
		if len(sp) != len(healthSpaceKeys) {
			t.Errorf("entry keys %v", sp)
		}
		for _, k := range healthSpaceKeys {
			if _, ok := sp[k]; !ok {
				t.Errorf("entry lacks %q", k)
			}
		}
	}
	var alpha struct {
		Space             string  `json:"space"`
		Memories          int     `json:"memories"`
		Pressure          float64 `json:"pressure"`
		WALLagMS          float64 `json:"wal_lag_ms"`
		ConsolidationRate float64 `json:"consolidation_rate"`
		Tiers             struct {
			Hot, Warm, Cold int
		} `json:"tiers"`
	}
	filtered := ts.get(t, "/api/v1/system/health?space=alpha").expectStatus(t, http.StatusOK)
	var fh struct {
		Spaces []json.RawMessage `json:"spaces"`
	}
	if err := json.Unmarshal(filtered.body, &fh); err != nil || len(fh.Spaces) != 1 {
		t.Fatalf("filtered health %s", filtered.body)
	}
	if err := json.Unmarshal(fh.Spaces[0], &alpha); err != nil {
		t.Fatal(err)
	}
	if alpha.Space != "alpha" || alpha.Memories != 2 || alpha.Tiers.Hot != 2 || alpha.Tiers.Warm != 0 || alpha.Tiers.Cold != 0 {
		t.Errorf("alpha %+v", alpha)
	}
	if alpha.Pressure < 0 || alpha.Pressure > 1 || alpha.WALLagMS < 0 || alpha.ConsolidationRate < 0 {
		t.Errorf("alpha figures out of range %+v", alpha)
	}
	unknown := ts.get(t, "/api/v1/system/health?space=nothing-here").expectStatus(t, 200).object(t)
	if len(arr(t, unknown, "spaces")) != 0 {
		t.Errorf("unknown space health %v", unknown)
	}
	ts.get(t, "/api/v1/system/health?space=BAD").expectError(t, 400, "BAD_REQUEST", "space query parameter")

	hm := ts.get(t, "/health").expectStatus(t, 200).object(t)
	if str(t, hm, "status") != "healthy" || str(t, hm, "service") != "engram" || str(t, hm, "version") == "" {
		t.Errorf("/health %v", hm)
	}
	ts.get(t, "/health/alive").expectStatus(t, 200)

	if err := ts.eng.Close(); err != nil {
		t.Fatal(err)
	}
	down := ts.get(t, "/api/v1/system/health").expectStatus(t, http.StatusServiceUnavailable).object(t)
	if str(t, down, "status") != "unhealthy" {
		t.Errorf("status %v after the engine closed", down["status"])
	}
	ts.get(t, "/health").expectStatus(t, http.StatusServiceUnavailable)
	ts.post(t, "/api/v1/memories/remember", `{"content":"late"}`).expectError(t, http.StatusServiceUnavailable, "OVERLOADED")
}

func TestMetrics(t *testing.T) {
	ts := newTestServer(t)
	ts.remember(t, "counted", "X-Memory-Space", "metered")
	ts.get(t, "/no/such/route")
	a := ts.get(t, "/metrics").expectStatus(t, http.StatusOK)
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	body := string(a.body)
	for _, want := range []string{
		"registry_lock_wait",
		"engram_wal_fsync_seconds",
		`engram_http_requests_total{route="/api/v1/memories/remember",code="201"} 1`,
		`engram_http_requests_total{route="unmatched",code="404"} 1`,
		`engram_http_request_duration_seconds_bucket{route="/api/v1/memories/remember",le=`,
		`engram_space_memories{space="metered"} 1`,
		`engram_space_pressure{space="metered"}`,
		`engram_space_wal_lag_seconds{space="metered"}`,
		`engram_space_consolidation_rate{space="metered"}`,
		`engram_space_tier_memories{space="metered",tier="hot"} 1`,
		`engram_space_link_queue{space="metered"}`,
		`engram_space_index_lag_work_seconds{space="metered"} 0`,
		`engram_space_link_lag_work_seconds{space="metered"}`,
		`engram_space_background_share{space="metered"} 0.05`, // no lag: the base share
		`engram_space_remembers_waiting{space="metered"} 0`,   // no lag: nothing waits
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestRoutingErrors(t *testing.T) {
	ts := newTestServer(t)
	ts.get(t, "/api/v2/nothing").expectError(t, http.StatusNotFound, "RESOURCE_NOT_FOUND", "/api/v2/nothing")
	a := ts.do(t, req{method: http.MethodPut, path: "/api/v1/memories/remember", body: `{}`})
	a.expectError(t, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "PUT")
	if allow := a.header.Get("Allow"); allow != "POST" {
		t.Errorf("Allow %q, want POST", allow)
	}
	b := ts.do(t, req{method: http.MethodPatch, path: "/api/v1/memories/some-id"})
	b.expectError(t, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	if allow := b.header.Get("Allow"); allow != "DELETE, GET" {
		t.Errorf("Allow %q, want DELETE, GET", allow)
	}
	ts.get(t, "/api/v1/memories/a/b").expectError(t, http.StatusNotFound, "RESOURCE_NOT_FOUND")
	// A trailing slash names the same route.
	ts.get(t, "/api/v1/memories/").expectStatus(t, http.StatusOK)
}

func TestShutdownRoute(t *testing.T) {
	var called atomic.Int32
	done := make(chan struct{})
	ts := newTestServer(t, withFrontend(func(o *frontend.Options) {
		o.Shutdown = func() {
			if called.Add(1) == 1 {
				close(done)
			}
		}
	}))
	remote := clientFor(ts.ln, "192.0.2.7")
	ts.send(t, remote, req{method: http.MethodPost, path: "/shutdown"}).expectError(t, http.StatusForbidden, "FORBIDDEN", "loopback")
	if called.Load() != 0 {
		t.Fatal("a remote caller triggered shutdown")
	}
	m := ts.do(t, req{method: http.MethodPost, path: "/shutdown"}).expectStatus(t, http.StatusOK).object(t)
	if str(t, m, "status") != "shutdown_initiated" {
		t.Fatalf("answer %v", m)
	}
	<-done
	ts.get(t, "/shutdown").expectError(t, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
}

func TestAuth(t *testing.T) {
	keys := frontendtest.Keys{
		"k-alpha": {Name: "alpha", Spaces: []string{"alpha"}},
		"k-admin": {Name: "admin", Admin: true, Spaces: []string{"*"}},
	}
	var shutdowns atomic.Int32
	ts := newTestServer(t, withFrontend(func(o *frontend.Options) {
		o.Auth = keys
		o.Shutdown = func() { shutdowns.Add(1) }
	}))
	ts.get(t, "/health").expectStatus(t, 200)
	ts.get(t, "/health/alive").expectStatus(t, 200)
	a := ts.get(t, "/api/v1/memories")
	a.expectError(t, http.StatusUnauthorized, "UNAUTHORIZED")
	if a.header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	ts.get(t, "/api/v1/memories", "Authorization", "Bearer wrong").expectError(t, 401, "UNAUTHORIZED")
	ts.post(t, "/api/v1/memories/remember", `{"content":"x"}`, "Authorization", "Bearer k-alpha", "X-Memory-Space", "alpha").expectStatus(t, 201)
	ts.post(t, "/api/v1/memories/remember", `{"content":"x"}`, "Authorization", "Bearer k-alpha", "X-Memory-Space", "beta").
		expectError(t, http.StatusForbidden, "FORBIDDEN", "beta")
	spaces := ts.get(t, "/api/v1/spaces", "Authorization", "Bearer k-alpha").expectStatus(t, 200).object(t)
	if got := ids(t, arr(t, spaces, "spaces")); len(got) != 1 || got[0] != "alpha" {
		t.Errorf("key of alpha lists %v", got)
	}
	ts.post(t, "/shutdown", "", "Authorization", "Bearer k-alpha").expectError(t, 403, "FORBIDDEN", "admin")
	ts.post(t, "/shutdown", "", "Authorization", "Bearer k-admin").expectStatus(t, 200)
}

func TestStartBindsSynchronously(t *testing.T) {
	eng := enginetest.Open(t, enginetest.Config(t, testDim))
	f, err := frontend.New("http", frontend.Options{Engine: eng, Logger: discard, HTTPListen: "127.0.0.1:0",
		SpaceListeners: map[string]string{"dedicated": "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	defer f.Stop(t.Context())
	addr := f.Addr()
	if addr == "" || f.(*Server).SpaceAddr("dedicated") == "" {
		t.Fatalf("addresses %q %q", addr, f.(*Server).SpaceAddr("dedicated"))
	}
	resp, err := http.Get("http://" + addr + "/health/alive")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}

	busy, err := frontend.New("http", frontend.Options{Engine: eng, Logger: discard, HTTPListen: addr})
	if err != nil {
		t.Fatal(err)
	}
	err = busy.Start()
	var opErr *net.OpError
	if err == nil || !errors.As(err, &opErr) {
		t.Fatalf("Start on a used port: %v, want the bind error", err)
	}
	if err := busy.Stop(t.Context()); err != nil {
		t.Fatalf("Stop of a server that never started: %v", err)
	}

	if _, err := New(frontend.Options{Engine: eng, SpaceListeners: map[string]string{"Bad": "127.0.0.1:0"}}); !errors.Is(err, engine.ErrInvalidSpaceID) {
		t.Fatalf("bad dedicated space id: %v", err)
	}
}

func TestTransportErrorsAreJSON(t *testing.T) {
	ts := newTestServer(t)
	huge := strings.Repeat("h", 16<<10)
	ts.get(t, "/health", "X-Huge", huge).expectError(t, http.StatusRequestHeaderFieldsTooLarge, "BAD_REQUEST", "headers")
	ts.get(t, "/health/alive").expectStatus(t, http.StatusOK)
	a := ts.get(t, "/metrics")
	if !strings.Contains(string(a.body), `engram_http_requests_total{route="transport",code="431"} 1`) {
		t.Error("transport errors are not counted")
	}
}
