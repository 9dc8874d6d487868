package httpapi

import (
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/frontendtest"
	"github.com/valyala/fasthttp"
)

// requestMemoryBound is the documented bound (docs/operations.md) on the heap one request
// allocates beyond its body, whatever the body's shape: 2 × max_body_bytes, plus 512
// bytes for each batch item up to max_batch_items.
func requestMemoryBound(o frontend.Options) uint64 {
	return uint64(2*o.MaxBodyBytes + 512*o.MaxBatchItems)
}

// hostileBody is one shape of body built to cost memory, filled to about size bytes.
type hostileBody struct {
	name, path, contentType string
	body                    []byte
}

// repeatTo returns prefix, then unit repeated until the whole is about size bytes (unit's
// trailing separator dropped), then suffix.
func repeatTo(size int, prefix, unit, suffix string) []byte {
	n := max((size-len(prefix)-len(suffix))/len(unit), 1)
	b := make([]byte, 0, size)
	b = append(b, prefix...)
	b = append(b, strings.Repeat(unit, n)...)
	if unit[len(unit)-1] == ',' {
		b = b[:len(b)-1]
	}
	return append(b, suffix...)
}

// hostileBodies are the shapes the memory bound is held to: unknown fields holding
// millions of small values, arrays of millions of elements, keys by the million, known
// fields stuffed, and the largest parse the value bound admits.
func hostileBodies(size, maxValues int) []hostileBody {
	const (
		remember = "/api/v1/memories/remember"
		recall   = "/api/v1/memories/recall"
		batch    = "/api/v1/memories/batch"
	)
	zeros := func(prefix, suffix string) []byte { return repeatTo(size, prefix, "0,", suffix) }
	return []hostileBody{
		{"recall unknown field of zeros", recall, "", zeros(`{"query":"x","junk":[`, `]}`)},
		{"remember unknown field of zeros", remember, "", zeros(`{"content":"x","junk":[`, `]}`)},
		{"episode unknown field of zeros", "/api/v1/episodes/remember", "", zeros(`{"what":"x","when":"2024-01-01T00:00:00Z","junk":[`, `]}`)},
		{"space create unknown field of zeros", "/api/v1/spaces", "", zeros(`{"id":"bomb","junk":[`, `]}`)},
		{"batch item with an unknown field of zeros", batch, "", zeros(`[{"content":"x","junk":[`, `]}]`)},
		{"batch of zeros", batch, "", zeros(`[`, `]`)},
		{"batch of empty objects", batch, "", repeatTo(size, `[`, `{},`, `]`)},
		{"NDJSON batch of zeros", batch, "application/x-ndjson", repeatTo(size, ``, "0\n", ``)},
		{"remember with a million keys", remember, "", repeatTo(size, `{"content":"x",`, `"k":0,`, `}`)},
		{"remember with empty tags", remember, "", repeatTo(size, `{"content":"x","tags":[`, `"",`, `]}`)},
		{"recall with nested arrays", recall, "", repeatTo(size, `{"query":"x","junk":[`, `[[[[0]]]],`, `]}`)},
		{"remember with an embedding of zeros", remember, "", zeros(`{"content":"x","embedding":[`, `]}`)},
		{"recall with an embedding of zeros", recall, "", zeros(`{"query":"x","embedding":[`, `]}`)},
		// One long string: a single value, so parsed (fastjson copies the body) or decoded
		// (encoding/json buffers it) whole.
		{"recall with a long unknown string", recall, "", repeatTo(size, `{"query":"x","junk":"`, "a", `"}`)},
		{"space create with a long unknown string", "/api/v1/spaces", "", repeatTo(size, `{"id":"bomb","junk":"`, "a", `"}`)},
		// The largest parse the value bound lets through: it is parsed and decoded.
		{"recall just under the value bound", recall, "", repeatTo(2*(maxValues-8), `{"query":"x","junk":[`, "0,", `]}`)},
	}
}

// allocatedBy returns the heap bytes allocated while f runs (runtime.MemStats.TotalAlloc,
// an upper bound on how far the heap grew).
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// serveInProcess runs one request through the server's dispatch without a connection, so
// that only the request's own allocations are measured.
func serveInProcess(s *Server, method, path, contentType string, body []byte, header ...string) *fasthttp.RequestCtx {
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, nil, nil)
	ctx.Request.Header.SetMethod(method)
	ctx.Request.SetRequestURI(path)
	if contentType == "" {
		contentType = "application/json"
	}
	ctx.Request.Header.SetContentType(contentType)
	for i := 0; i+1 < len(header); i += 2 {
		ctx.Request.Header.Set(header[i], header[i+1])
	}
	ctx.Request.SetBodyRaw(body)
	s.dispatch(&ctx, "")
	return &ctx
}

// TestHostileBodiesAreBoundedInMemory holds every hostile body shape to the documented
// bound (requestMemoryBound). Before the value bound, the first shape alone allocated
// about 440 times its number of values, over a hundred times its size.
func TestHostileBodiesAreBoundedInMemory(t *testing.T) {
	const maxBody = 4 << 20
	ts := newTestServer(t, withFrontend(func(o *frontend.Options) { o.MaxBodyBytes = maxBody }))
	s := ts.srv
	limit := requestMemoryBound(s.opts)
	for _, hb := range hostileBodies(maxBody-1024, s.maxValues) {
		t.Run(hb.name, func(t *testing.T) {
			var status int
			alloc := allocatedBy(func() {
				ctx := serveInProcess(s, http.MethodPost, hb.path, hb.contentType, hb.body, "X-Memory-Space", "bombed")
				status = ctx.Response.StatusCode()
			})
			t.Logf("%d-byte body: status %d, %d bytes allocated (%.2f × max_body_bytes)", len(hb.body), status, alloc, float64(alloc)/maxBody)
			if alloc > limit {
				t.Fatalf("one request allocated %d bytes, over the bound of %d", alloc, limit)
			}
			if status == http.StatusInternalServerError {
				t.Fatalf("status %d", status)
			}
		})
	}
	// Nothing of it was stored, and other spaces saw nothing.
	for _, id := range []string{"bombed", "bomb"} {
		if sp, err := ts.eng.Space(id); err == nil && sp.Stats().Memories > 0 {
			t.Errorf("space %s holds %d memories after hostile bodies", id, sp.Stats().Memories)
		}
	}
}

// TestForeignKeyBodyIsNotParsed: a key scoped to another space, naming its target in the
// header, the query or by the listener, is refused before its body is read, so a hostile
// body costs it nothing; the same body sent with no key costs nothing either.
func TestForeignKeyBodyIsNotParsed(t *testing.T) {
	keys := frontendtest.Keys{"k-alpha": {Name: "alpha", Spaces: []string{"alpha"}}}
	ts := newTestServer(t, withFrontend(func(o *frontend.Options) { o.Auth = keys }))
	body := repeatTo(4<<20, `{"query":"x","content":"x","junk":[`, "0,", `]}`)
	cases := []struct {
		name, path string
		header     []string
		status     int
	}{
		{"no key", "/api/v1/memories/recall", nil, http.StatusUnauthorized},
		{"foreign key, header", "/api/v1/memories/recall", []string{"Authorization", "Bearer k-alpha", "X-Memory-Space", "victim"}, http.StatusForbidden},
		{"foreign key, query", "/api/v1/memories/remember?space=victim", []string{"Authorization", "Bearer k-alpha"}, http.StatusForbidden},
		{"foreign key, batch", "/api/v1/memories/batch", []string{"Authorization", "Bearer k-alpha", "X-Memory-Space", "victim"}, http.StatusForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var status int
			alloc := allocatedBy(func() {
				status = serveInProcess(ts.srv, http.MethodPost, c.path, "", body, c.header...).Response.StatusCode()
			})
			if status != c.status {
				t.Fatalf("status %d, want %d", status, c.status)
			}
			// The answer itself and the request's bookkeeping: a few kilobytes, nothing
			// in proportion to the 4 MiB body.
			if alloc > 256<<10 {
				t.Fatalf("a refused request allocated %d bytes for a %d-byte body", alloc, len(body))
			}
		})
	}
	if _, err := ts.eng.Space("victim"); err == nil {
		t.Error("space victim exists after refused requests")
	}
}

// TestValueBoundAnswer: a body over the value bound is answered 413 naming the setting
// that sets it, and a body under it is served.
func TestValueBoundAnswer(t *testing.T) {
	ts := newTestServer(t)
	n := ts.srv.maxValues
	over := `{"query":"x","junk":[` + strings.TrimSuffix(strings.Repeat("0,", n), ",") + `]}`
	ts.post(t, "/api/v1/memories/recall", over).expectError(t, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "JSON values", "max_body_bytes")
	under := `{"query":"x","junk":[` + strings.TrimSuffix(strings.Repeat("0,", n-10), ",") + `]}`
	ts.post(t, "/api/v1/memories/recall", under).expectStatus(t, http.StatusOK)
}
