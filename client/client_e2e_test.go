package client_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engram-go/engram/client"
)

func newClient(t testing.TB, addr string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New("http://"+addr, append([]client.Option{client.WithHTTPClient(checkedHTTP())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func f32(x float32) *float32 { return &x }

// TestClientAgainstTheBinary calls every method of the client on the real server, in two
// spaces, and checks each answer and the isolation between the spaces.
func TestClientAgainstTheBinary(t *testing.T) {
	srv := startServer(t, "")
	ctx := withTimeout(t)
	c := newClient(t, srv.addr, client.WithSpace("alpha"))
	beta := c.Space("beta")

	// Health and system routes.
	if h, err := c.Health(ctx); err != nil || h.Status != "healthy" || h.Service != "engram" {
		t.Fatalf("Health: %+v, %v", h, err)
	}
	if err := c.Alive(ctx); err != nil {
		t.Fatalf("Alive: %v", err)
	}
	doc, err := c.OpenAPI(ctx)
	if err != nil || !bytes.Contains(doc, []byte(`"openapi": "3.1.0"`)) {
		t.Fatalf("OpenAPI: %.80s, %v", doc, err)
	}

	// Remember, episode, batch.
	r1, err := c.Remember(ctx, client.RememberRequest{Content: "the cat sat on the mat", Tags: []string{"pets"}, Confidence: f32(0.9), ID: "cat"})
	if err != nil || r1.MemoryID != "cat" || r1.MemorySpaceID != "alpha" || r1.StorageConfidence.Value != 0.9 {
		t.Fatalf("Remember: %+v, %v", r1, err)
	}
	when := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	ep, err := c.RememberEpisode(ctx, client.EpisodeRequest{What: "fed the cat tuna", When: when, Who: []string{"ana"}, WhereLocation: "kitchen"})
	if err != nil || !ep.ObservedAt.Equal(when) {
		t.Fatalf("RememberEpisode: %+v, %v", ep, err)
	}
	b, err := c.RememberBatch(ctx, []client.RememberRequest{{Content: "dogs chase cats"}, {Content: ""}, {Content: "the mat is red"}}, client.BatchOptions{})
	if err != nil || b.Accepted != 2 || len(b.Errors) != 1 || b.Errors[0].Index != 1 || b.Errors[0].Code != "INVALID_MEMORY_INPUT" {
		t.Fatalf("RememberBatch: %+v, %v", b, err)
	}

	// Reads.
	m, err := c.Get(ctx, "cat")
	if err != nil || m.Content != "the cat sat on the mat" || m.Tier != "hot" || len(m.Embedding) != 64 || m.Tags[0] != "pets" {
		t.Fatalf("Get: %+v, %v", m, err)
	}
	epm, err := c.Get(ctx, ep.MemoryID)
	if err != nil || epm.Episode == nil || epm.Episode.WhereLocation != "kitchen" {
		t.Fatalf("Get episode: %+v, %v", epm, err)
	}
	rec, err := c.Recall(ctx, client.RecallRequest{Query: "cat on the mat", Mode: client.ModeSpreading, Threshold: f32(0), IncludeMetadata: true, TraceActivation: true})
	if err != nil || len(rec.All()) == 0 || rec.Metadata == nil || rec.MemorySpaceID != "alpha" {
		t.Fatalf("Recall: %+v, %v", rec, err)
	}
	pq, err := c.ProbabilisticQuery(ctx, client.ProbabilisticRequest{RecallRequest: client.RecallRequest{Query: "cat", Threshold: f32(0)}, IncludeEvidence: true, IncludeUncertainty: true})
	if err != nil || len(pq.Memories) == 0 || pq.EvidenceChain == nil || pq.ConfidenceInterval.Upper < pq.ConfidenceInterval.Lower {
		t.Fatalf("ProbabilisticQuery: %+v, %v", pq, err)
	}
	se, err := c.Search(ctx, "mat", 10)
	if err != nil || se.Total != 2 {
		t.Fatalf("Search: %+v, %v", se, err)
	}
	l, err := c.List(ctx, client.ListRequest{Limit: 2, IncludeEmbeddings: true})
	if err != nil || l.Count != 4 || len(l.Memories) != 2 || len(l.Memories[0].Embedding) != 64 || l.TierCounts.Total != 4 {
		t.Fatalf("List: %+v, %v", l, err)
	}
	cons, err := c.Consolidations(ctx)
	if err != nil || cons.Beliefs == nil || cons.Stats.Memories != 4 {
		t.Fatalf("Consolidations: %+v, %v", cons, err)
	}
	if _, err := c.Consolidation(ctx, "cat"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("Consolidation of a memory that is no belief: %v, want ErrNotFound", err)
	}

	// Isolation: beta sees nothing of alpha.
	if _, err := beta.Get(ctx, "cat"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("beta reads alpha's memory: %v", err)
	}
	if _, err := beta.Remember(ctx, client.RememberRequest{Content: "beta only", ID: "b1"}); err != nil {
		t.Fatal(err)
	}
	if l, err := beta.List(ctx, client.ListRequest{}); err != nil || l.Count != 1 || l.Memories[0].ID != "b1" {
		t.Fatalf("beta List: %+v, %v", l, err)
	}
	if l, err := c.List(ctx, client.ListRequest{}); err != nil || l.Count != 4 {
		t.Fatalf("alpha List after beta's write: %+v, %v", l, err)
	}

	// Spaces.
	created, err := c.CreateSpace(ctx, "gamma", client.SpaceSettings{HotCapacity: 500, Dimension: 64})
	if err != nil || created.Created == nil || !*created.Created || created.Settings.HotCapacity != 500 {
		t.Fatalf("CreateSpace: %+v, %v", created, err)
	}
	again, err := c.CreateSpace(ctx, "gamma", client.SpaceSettings{})
	if err != nil || again.Created == nil || *again.Created {
		t.Fatalf("CreateSpace again: %+v, %v", again, err)
	}
	spaces, err := c.Spaces(ctx)
	if err != nil || len(spaces) != 4 || spaces[0].ID != "alpha" || spaces[1].ID != "beta" || spaces[3].ID != "gamma" {
		t.Fatalf("Spaces: %+v, %v", spaces, err)
	}
	d, err := c.GetSpace(ctx, "alpha")
	if err != nil || d.Memories != 4 || d.Stats.Dimension != 64 {
		t.Fatalf("GetSpace: %+v, %v", d, err)
	}
	sh, err := c.SystemHealth(ctx, true)
	if err != nil || sh.Status != "healthy" || len(sh.Spaces) != 1 || sh.Spaces[0].Space != "alpha" {
		t.Fatalf("SystemHealth: %+v, %v", sh, err)
	}

	// Export from alpha, import into gamma: same memories, same ids.
	var export bytes.Buffer
	n, err := c.Export(ctx, "alpha", &export)
	if err != nil || n != 4 || bytes.Count(export.Bytes(), []byte("\n")) != 4 {
		t.Fatalf("Export: %d lines, %v", n, err)
	}
	var ids []string
	if _, err := c.ExportMemories(ctx, "alpha", func(l client.TransferLine) error { ids = append(ids, l.ID); return nil }); err != nil || len(ids) != 4 || ids[0] != "cat" {
		t.Fatalf("ExportMemories: %v, %v", ids, err)
	}
	imp, err := c.Import(ctx, "gamma", export.Bytes())
	if err != nil || imp.Imported != 4 || imp.Failed != 0 || imp.MemorySpaceID != "gamma" {
		t.Fatalf("Import: %+v, %v", imp, err)
	}
	if m, err := c.Space("gamma").Get(ctx, "cat"); err != nil || m.Content != "the cat sat on the mat" {
		t.Fatalf("imported memory: %+v, %v", m, err)
	}

	// Associations: the route answers for alpha's memory and hides it from beta.
	if as, err := c.Associations(ctx, "cat"); err != nil || as.MemoryID != "cat" || as.Count != len(as.Associations) || as.MemorySpaceID != "alpha" {
		t.Fatalf("Associations: %+v, %v", as, err)
	}
	if _, err := beta.Associations(ctx, "cat"); !errors.Is(err, client.ErrMemoryNotFound) {
		t.Fatalf("beta Associations of alpha's memory: %v", err)
	}

	// Forget and delete.
	if f, err := c.Forget(ctx, "cat"); err != nil || !f.Forgotten {
		t.Fatalf("Forget: %+v, %v", f, err)
	}
	if _, err := c.Get(ctx, "cat"); !errors.Is(err, client.ErrMemoryNotFound) {
		t.Fatalf("Get after Forget: %v", err)
	}
	if del, err := c.DeleteSpace(ctx, "gamma"); err != nil || !del.Deleted {
		t.Fatalf("DeleteSpace: %+v, %v", del, err)
	}
	if _, err := c.GetSpace(ctx, "gamma"); !errors.Is(err, client.ErrSpaceNotFound) {
		t.Fatalf("GetSpace after delete: %v", err)
	}
	metrics, err := c.Metrics(ctx)
	if err != nil || !strings.Contains(metrics, `engram_http_requests_total{route="/api/v1/memories/{id}"`) {
		t.Fatalf("Metrics: %v", err)
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("server after Shutdown: %v", err)
	}
}

// TestClientTypedErrors maps the server's error answers to the client's sentinels.
func TestClientTypedErrors(t *testing.T) {
	srv := startServer(t, "")
	ctx := withTimeout(t)
	c := newClient(t, srv.addr)
	tests := []struct {
		name string
		call func() error
		want error
		code string
	}{
		{"missing memory", func() error { _, err := c.Get(ctx, "nope"); return err }, client.ErrMemoryNotFound, "MEMORY_NOT_FOUND"},
		{"bad confidence", func() error {
			_, err := c.Remember(ctx, client.RememberRequest{Content: "x", Confidence: f32(1.5)})
			return err
		}, client.ErrInvalidInput, "INVALID_MEMORY_INPUT"},
		{"bad space id", func() error { _, err := c.Space("NO!").Remember(ctx, client.RememberRequest{Content: "x"}); return err }, client.ErrBadRequest, "BAD_REQUEST"},
		{"delete default", func() error { _, err := c.DeleteSpace(ctx, "default"); return err }, client.ErrConflict, "CONFLICT"},
		{"unknown space", func() error { _, err := c.GetSpace(ctx, "nowhere"); return err }, client.ErrSpaceNotFound, "SPACE_NOT_FOUND"},
		{"wrong vector length", func() error {
			_, err := c.Remember(ctx, client.RememberRequest{Content: "x", Embedding: []float32{1, 2}})
			return err
		}, client.ErrInvalidInput, "INVALID_MEMORY_INPUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var apiErr *client.Error
			if !errors.Is(err, tt.want) || !errors.As(err, &apiErr) || apiErr.Code != tt.code || apiErr.Message == "" {
				t.Fatalf("got %v, want %v with code %s", err, tt.want, tt.code)
			}
		})
	}
	if _, err := client.New("ftp://x"); err == nil {
		t.Fatal("New accepted an ftp URL")
	}
	dead := newClient(t, "127.0.0.1:1")
	if _, err := dead.Health(ctx); !errors.Is(err, client.ErrNoServer) {
		t.Fatalf("no server: %v", err)
	}
}

// TestClientRetriesRateLimit drives the real server's per-space rate limit: the second
// remember within a second answers 429 with Retry-After, and the client waits and
// succeeds; with retries off it sees the typed error.
func TestClientRetriesRateLimit(t *testing.T) {
	srv := startServer(t, "[spaces.slow]\nrate_limit = 1\n")
	ctx := withTimeout(t)
	noRetry := newClient(t, srv.addr, client.WithSpace("slow"), client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
	if _, err := noRetry.Remember(ctx, client.RememberRequest{Content: "first"}); err != nil {
		t.Fatal(err)
	}
	_, err := noRetry.Remember(ctx, client.RememberRequest{Content: "second"})
	var apiErr *client.Error
	if !errors.Is(err, client.ErrRateLimited) || !errors.As(err, &apiErr) || apiErr.RetryAfter <= 0 {
		t.Fatalf("without retries: %v, want ErrRateLimited with Retry-After", err)
	}
	c := newClient(t, srv.addr, client.WithSpace("slow"))
	if _, err := c.Remember(ctx, client.RememberRequest{Content: "third"}); err != nil {
		t.Fatalf("with retries: %v", err)
	}
	// The bound: a policy that may not wait as long as Retry-After gives up at once.
	short := newClient(t, srv.addr, client.WithSpace("slow"), client.WithRetry(client.RetryPolicy{MaxAttempts: 5, MaxWait: time.Millisecond}))
	if _, err := short.Remember(ctx, client.RememberRequest{Content: "fourth"}); !errors.Is(err, client.ErrRateLimited) {
		t.Fatalf("bounded wait: %v, want ErrRateLimited", err)
	}
}

// faultProxy answers the first n requests of a path 503 with Retry-After, as an
// overloaded server does, and passes everything else to the real server.
func faultProxy(t *testing.T, target, path string, n int32) (*httptest.Server, *atomic.Int32) {
	u, _ := url.Parse("http://" + target)
	rp := httputil.NewSingleHostReverseProxy(u)
	var seen atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path && seen.Add(1) <= n {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error":{"code":"OVERLOADED","message":"injected overload"}}`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts, &seen
}

// TestClientRetries503 puts a fault proxy before the real server: two 503 answers with
// Retry-After, then the write goes through, stored once.
func TestClientRetries503(t *testing.T) {
	srv := startServer(t, "")
	ctx := withTimeout(t)
	ts, seen := faultProxy(t, srv.addr, "/api/v1/memories/remember", 2)
	c := newClient(t, strings.TrimPrefix(ts.URL, "http://"), client.WithSpace("retry"))
	start := time.Now()
	r, err := c.Remember(ctx, client.RememberRequest{Content: "after two refusals"})
	if err != nil || seen.Load() != 3 {
		t.Fatalf("Remember through the fault proxy: %+v, %v (attempts %d)", r, err, seen.Load())
	}
	if waited := time.Since(start); waited < 2*time.Second {
		t.Fatalf("retried after %v; Retry-After asked for 1 s twice", waited)
	}
	direct := newClient(t, srv.addr, client.WithSpace("retry"))
	if l, err := direct.List(ctx, client.ListRequest{}); err != nil || l.Count != 1 {
		t.Fatalf("stored %+v, %v; want exactly one memory", l, err)
	}
	// Past MaxAttempts the 503 is returned, typed.
	ts2, _ := faultProxy(t, srv.addr, "/api/v1/memories/remember", 100)
	c2 := newClient(t, strings.TrimPrefix(ts2.URL, "http://"), client.WithRetry(client.RetryPolicy{MaxAttempts: 2, MaxWait: time.Minute}))
	var apiErr *client.Error
	if _, err := c2.Remember(ctx, client.RememberRequest{Content: "never"}); !errors.Is(err, client.ErrOverloaded) || !errors.As(err, &apiErr) || apiErr.RetryAfter != time.Second {
		t.Fatalf("after MaxAttempts: %v", err)
	}
}

// TestRememberAllSplitsAndIsIdempotent sends 250 memories in batches of at most 100, then
// the same input again: the ids it assigned make the second call replace, not add.
func TestRememberAllSplitsAndIsIdempotent(t *testing.T) {
	srv := startServer(t, "")
	ctx := withTimeout(t)
	c := newClient(t, srv.addr, client.WithSpace("bulk"))
	items := make([]client.RememberRequest, 250)
	for i := range items {
		items[i] = client.RememberRequest{Content: fmt.Sprintf("bulk memory %d", i), ID: fmt.Sprintf("bulk-%03d", i)}
	}
	items[7].Content = "" // refused by index
	res, err := c.RememberAll(ctx, items, client.BatchAllOptions{MaxItems: 100})
	if err != nil || res.Accepted != 249 || res.Batches != 3 || len(res.Errors) != 1 || res.Errors[0].Index != 7 {
		t.Fatalf("RememberAll: %+v, %v", res, err)
	}
	again, err := c.RememberAll(ctx, items, client.BatchAllOptions{MaxBytes: 2000})
	if err != nil || again.Accepted != 249 || again.Batches <= 3 {
		t.Fatalf("RememberAll again, small batches: %+v, %v", again, err)
	}
	if l, err := c.List(ctx, client.ListRequest{}); err != nil || l.Count != 249 {
		t.Fatalf("after two sends: %+v, %v; want 249 memories", l.Count, err)
	}
	// Items without ids get fresh ones, returned in input order.
	noIDs := []client.RememberRequest{{Content: "a"}, {Content: "b"}}
	r, err := c.RememberAll(ctx, noIDs, client.BatchAllOptions{})
	if err != nil || len(r.MemoryIDs) != 2 || noIDs[0].ID != "" {
		t.Fatalf("ids: %+v, %v (input modified: %q)", r, err, noIDs[0].ID)
	}
	if l, err := c.Space("other").List(ctx, client.ListRequest{}); err != nil || l.Count != 0 {
		t.Fatalf("another space sees %d memories, %v", l.Count, err)
	}
}

// TestSubscribeResumesAfterDrop cuts the stream's connection while memories are written
// and checks that the subscription reconnects with Last-Event-ID and delivers every event
// once, in order.
func TestSubscribeResumesAfterDrop(t *testing.T) {
	srv := startServer(t, "")
	ctx := withTimeout(t)
	proxy := newTCPProxy(t, srv.addr)
	direct := newClient(t, srv.addr, client.WithSpace("watch"))
	if _, err := direct.Remember(ctx, client.RememberRequest{Content: "before subscribing"}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, proxy.addr(), client.WithSpace("watch"))
	sub, err := c.Subscribe(ctx, client.StreamMemories, client.StreamOptions{EventTypes: []string{"formation"}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	next := func() *client.Event {
		t.Helper()
		for {
			m, err := sub.Next()
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if m.Warning != nil {
				t.Fatalf("unexpected warning %+v", m.Warning)
			}
			return m.Event
		}
	}
	var seen []string
	remember := func(s string) {
		if _, err := direct.Remember(ctx, client.RememberRequest{Content: s, ID: s}); err != nil {
			t.Fatal(err)
		}
	}
	remember("m1")
	ev := next()
	seen = append(seen, ev.MemoryID)
	proxy.cut() // the connection drops; the events of m2 and m3 happen while it is down
	remember("m2")
	remember("m3")
	for len(seen) < 3 {
		seen = append(seen, next().MemoryID)
	}
	if strings.Join(seen, ",") != "m1,m2,m3" || sub.Reconnects < 1 {
		t.Fatalf("events %v after %d reconnects, want m1,m2,m3 after one", seen, sub.Reconnects)
	}
	if sub.LastEventID() <= ev.ID {
		t.Fatalf("LastEventID %d did not advance past %d", sub.LastEventID(), ev.ID)
	}
	// Another space's events never arrive.
	if _, err := direct.Space("elsewhere").Remember(ctx, client.RememberRequest{Content: "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	remember("m4")
	if ev := next(); ev.MemoryID != "m4" || ev.MemorySpaceID != "watch" {
		t.Fatalf("next event %+v, want m4 of watch", ev)
	}
}

// TestDocsSwitchThroughTheBinary: the binary serves /docs by default and answers 404 with
// [http] docs = false, while /openapi.json stays.
func TestDocsSwitchThroughTheBinary(t *testing.T) {
	for _, tc := range []struct {
		toml string
		want int
	}{{"", http.StatusOK}, {"[http]\ndocs = false\n", http.StatusNotFound}} {
		srv := startServer(t, tc.toml)
		resp, err := checkedHTTP().Get("http://" + srv.addr + "/docs")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("%q: /docs answered %d, want %d", tc.toml, resp.StatusCode, tc.want)
		}
		if _, err := newClient(t, srv.addr).OpenAPI(withTimeout(t)); err != nil {
			t.Fatalf("%q: /openapi.json: %v", tc.toml, err)
		}
	}
}
