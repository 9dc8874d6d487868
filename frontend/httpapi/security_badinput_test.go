package httpapi

import (
	"bufio"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/engram-go/engram/engine"
)

// wireSecret is a bearer key sent in malformed requests; no answer or log line may hold it.
const wireSecret = "engram-wire-secret-8f2c"

// badInputSpace holds the sentinel memory every bad request aims at.
const badInputSpace = "victim"

// storedState is what a rejected request must leave alone: the spaces, their memory
// counts, the sentinel memory's stored fields and every path under the data root.
func storedState(t *testing.T, ts *testServer, sentinel string) string {
	t.Helper()
	var b strings.Builder
	for _, sp := range ts.eng.Spaces() {
		res, err := sp.List(engine.ListOptions{Limit: 1000})
		if err != nil {
			t.Fatalf("list %s: %v", sp.ID(), err)
		}
		fmt.Fprintf(&b, "space %s: %d memories\n", sp.ID(), res.Total)
	}
	sp, err := ts.eng.Space(badInputSpace)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sp.Get(sentinel)
	if err != nil {
		t.Fatalf("sentinel: %v", err)
	}
	fmt.Fprintf(&b, "sentinel %s %q %v %v %v %v %s\n", m.ID, m.Content, m.Tags, m.Confidence, m.Embedding, m.Type, m.ObservedAt)
	root := ts.eng.Config().DataRoot
	var paths []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		paths = append(paths, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	fmt.Fprintf(&b, "paths %v\n", paths)
	return b.String()
}

// TestBadInputIsRejectedAndChangesNothing sends malformed, mistyped, non-finite, huge,
// path-traversing, non-UTF-8, oversized and header-injecting requests. Each answers the
// documented JSON error naming what is wrong, and the stored data is the same afterwards.
func TestBadInputIsRejectedAndChangesNothing(t *testing.T) {
	ts := newTestServer(t)
	sentinel := "sentinel-1"
	ts.post(t, "/api/v1/memories/remember",
		`{"id":"sentinel-1","content":"the sentinel memory","tags":["keep"],"confidence":0.9,"embedding":`+axisVectorJSON(2)+`,"timestamp":"2024-01-02T03:04:05Z"}`,
		"X-Memory-Space", badInputSpace).expectStatus(t, http.StatusCreated)
	before := storedState(t, ts, sentinel)

	remember := "/api/v1/memories/remember"
	h := map[string]string{"X-Memory-Space": badInputSpace}
	tenMB := `{"content":"` + strings.Repeat("a", 10<<20) + `"}`
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	cases := []struct {
		name   string
		r      req
		status int
		code   string
		words  []string
	}{
		// Malformed JSON.
		{"truncated object", req{path: remember, body: `{"content":"x"`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON"}},
		{"trailing data", req{path: remember, body: `{"content":"x"} {"content":"y"}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON"}},
		{"single quotes", req{path: remember, body: `{'content':'x'}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON"}},
		{"nesting beyond the parser's depth", req{path: remember, body: deep, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON"}},
		{"array instead of object", req{path: remember, body: `["x"]`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"JSON object"}},
		{"empty body", req{method: http.MethodPost, path: remember, header: h}, 400, "BAD_REQUEST", []string{"empty"}},
		{"form body that is not JSON", req{path: remember, body: `content=x`, contentType: "application/x-www-form-urlencoded", header: h}, 415, "UNSUPPORTED_MEDIA_TYPE", []string{"application/json"}},
		{"text body", req{path: remember, body: `{"content":"x"}`, contentType: "text/plain", header: h}, 415, "UNSUPPORTED_MEDIA_TYPE", []string{"text/plain"}},

		// Wrong types, each named.
		{"content number", req{path: remember, body: `{"content":5}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"content"}},
		{"content missing", req{path: remember, body: `{"tags":["a"]}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"content"}},
		{"content blank", req{path: remember, body: `{"content":"  "}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"content"}},
		{"confidence string", req{path: remember, body: `{"content":"x","confidence":"high"}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"confidence"}},
		{"confidence out of range", req{path: remember, body: `{"content":"x","confidence":1.5}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"confidence"}},
		{"tags object", req{path: remember, body: `{"content":"x","tags":{"a":1}}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"tags"}},
		{"tag number", req{path: remember, body: `{"content":"x","tags":["a",7]}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"tags[1]"}},
		{"embedding string", req{path: remember, body: `{"content":"x","embedding":"1,2"}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"embedding"}},
		{"embedding item string", req{path: remember, body: `{"content":"x","embedding":[1,"2",3,4,5,6,7,8]}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"embedding[1]"}},
		{"timestamp number", req{path: remember, body: `{"content":"x","timestamp":1700000000}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"timestamp"}},
		{"timestamp not RFC 3339", req{path: remember, body: `{"content":"x","timestamp":"yesterday"}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"timestamp"}},
		{"memory_type unknown", req{path: remember, body: `{"content":"x","memory_type":"dream"}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"memory_type"}},
		{"auto_link string", req{path: remember, body: `{"content":"x","auto_link":"yes"}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"auto_link"}},
		{"memory_space number", req{path: remember, body: `{"content":"x","memory_space":5}`}, 400, "INVALID_MEMORY_INPUT", []string{"memory_space"}},
		{"episode when garbage", req{path: "/api/v1/episodes/remember", body: `{"what":"x","when":"soon"}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"when"}},

		// NaN, Infinity and numbers beyond float64 or float32.
		{"NaN confidence", req{path: remember, body: `{"content":"x","confidence":NaN}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON", "NaN"}},
		{"Infinity confidence", req{path: remember, body: `{"content":"x","confidence":Infinity}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON"}},
		{"-Infinity link_threshold", req{path: remember, body: `{"content":"x","link_threshold":-Infinity}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON"}},
		{"1e400 confidence", req{path: remember, body: `{"content":"x","confidence":1e400}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"confidence", "finite"}},
		{"NaN in embedding", req{path: remember, body: `{"content":"x","embedding":[NaN,1,1,1,1,1,1,1]}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON", "NaN"}},
		{"1e400 in embedding", req{path: remember, body: `{"content":"x","embedding":[1,1e400,1,1,1,1,1,1]}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"embedding[1]"}},
		{"beyond float32 in embedding", req{path: remember, body: `{"content":"x","embedding":[1,1,1e39,1,1,1,1,1]}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"embedding[2]"}},
		{"recall max_results 1e400", req{path: "/api/v1/memories/recall?query=x&max_results=1e400", header: h}, 400, "BAD_REQUEST", []string{"max_results"}},
		{"recall threshold NaN", req{path: "/api/v1/memories/recall?query=x&threshold=NaN", header: h}, 400, "BAD_REQUEST", []string{"threshold"}},
		{"recall embedding NaN", req{path: "/api/v1/memories/recall?embedding=%5BNaN%5D", header: h}, 400, "BAD_REQUEST", []string{"embedding", "NaN"}},

		// The JSON number grammar of RFC 8259, wherever a number is read.
		{"leading zero", req{path: remember, body: `{"content":"x","confidence":01}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON", "leading zero"}},
		{"leading zero in embedding", req{path: remember, body: `{"content":"x","embedding":[1,1,1,01,1,1,1,1]}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON", "leading zero"}},
		{"bare trailing dot", req{path: remember, body: `{"content":"x","confidence":1.}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON", "decimal point"}},
		{"bare leading dot", req{path: remember, body: `{"content":"x","confidence":.5}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON", "0.5, not .5"}},
		{"plus sign", req{path: remember, body: `{"content":"x","confidence":+1}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON", "'+'"}},
		{"plus sign in embedding", req{path: remember, body: `{"content":"x","embedding":[+1,1,1,1,1,1,1,1]}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON", "'+'"}},
		{"exponent without digits", req{path: remember, body: `{"content":"x","confidence":1e}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON", "exponent"}},
		{"leading zero in recall", req{path: "/api/v1/memories/recall", body: `{"query":"x","max_results":05}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON", "leading zero"}},
		{"leading zero in recall embedding parameter", req{path: "/api/v1/memories/recall?embedding=%5B01%5D", header: h}, 400, "BAD_REQUEST", []string{"embedding", "leading zero"}},
		{"leading zero in an unknown field", req{path: remember, body: `{"content":"x","extra":[00]}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON", "leading zero"}},
		{"raw newline in content", req{path: remember, body: "{\"content\":\"a\nb\"}", header: h}, 400, "BAD_REQUEST", []string{"malformed JSON", "control character"}},
		{"leading zero in a batch item", req{path: "/api/v1/memories/batch", body: `[{"content":"x"},{"content":"y","confidence":00}]`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON", "leading zero"}},
		{"leading zero in space create", req{path: "/api/v1/spaces", body: `{"id":"numbers","hot_capacity":010}`}, 400, "BAD_REQUEST", []string{"malformed JSON", "leading zero"}},

		// Embeddings of length 0, or whose length overflows: refused, never stored as no
		// embedding.
		{"zero embedding", req{path: remember, body: `{"content":"x","embedding":[0,0,0,0,0,0,0,0]}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"embedding", "length 0"}},
		{"underflowing embedding", req{path: remember, body: `{"content":"x","embedding":[1e-45,1e-45,1e-45,1e-45,1e-45,1e-45,1e-45,1e-45]}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"embedding", "length 0"}},
		{"overflowing embedding", req{path: remember, body: `{"content":"x","embedding":[1e20,0,0,0,0,0,0,0]}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"embedding", "overflows"}},
		{"zero episode embedding", req{path: "/api/v1/episodes/remember", body: `{"what":"x","when":"2024-01-01T00:00:00Z","embedding":[0,0,0,0,0,0,0,0]}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"embedding", "length 0"}},
		{"zero recall embedding", req{path: "/api/v1/memories/recall", body: `{"embedding":[0,0,0,0,0,0,0,0]}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"embedding", "length 0"}},

		// Bodies that would cost memory out of proportion to their size.
		{"unknown field of many numbers", req{path: "/api/v1/memories/recall", body: `{"query":"x","junk":[` + strings.TrimSuffix(strings.Repeat("0,", 20000), ",") + `]}`, header: h}, 413, "PAYLOAD_TOO_LARGE", []string{"JSON values", "max_body_bytes"}},
		{"remember of many keys", req{path: remember, body: `{"content":"x",` + strings.TrimSuffix(strings.Repeat(`"k":0,`, 20000), ",") + `}`, header: h}, 413, "PAYLOAD_TOO_LARGE", []string{"JSON values"}},
		{"batch item of many numbers", req{path: "/api/v1/memories/batch", body: `[{"content":"x","junk":[` + strings.TrimSuffix(strings.Repeat("0,", 20000), ",") + `]}]`, header: h}, 413, "PAYLOAD_TOO_LARGE", []string{"JSON values"}},
		{"batch of too many elements", req{path: "/api/v1/memories/batch", body: `[` + strings.TrimSuffix(strings.Repeat("0,", 10001), ",") + `]`, header: h}, 413, "PAYLOAD_TOO_LARGE", []string{"10001 memories"}},
		{"NDJSON of too many lines", req{path: "/api/v1/memories/batch", body: strings.Repeat("0\n", 10001), contentType: "application/x-ndjson", header: h}, 413, "PAYLOAD_TOO_LARGE", []string{"10001 memories"}},

		// Wrong dimensions (the space has testDim).
		{"short embedding", req{path: remember, body: `{"content":"x","embedding":[1,2,3]}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"embedding", "3 dimensions"}},
		{"long embedding", req{path: remember, body: `{"content":"x","embedding":[` + strings.TrimSuffix(strings.Repeat("1,", 3*testDim), ",") + `]}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"embedding", "24 dimensions"}},
		{"recall embedding of the wrong dimension", req{path: "/api/v1/memories/recall?embedding=%5B1,2%5D", header: h}, 400, "INVALID_MEMORY_INPUT", []string{"embedding", "2 dimensions"}},

		// Path traversal in space ids, from every source.
		{"header ../x", req{path: "/api/v1/memories", header: map[string]string{"X-Memory-Space": "../x"}}, 400, "BAD_REQUEST", []string{"X-Memory-Space header"}},
		{"header a/b", req{path: remember, body: `{"content":"x"}`, header: map[string]string{"X-Memory-Space": "a/b"}}, 400, "BAD_REQUEST", []string{"X-Memory-Space header"}},
		{"query %2e%2e", req{path: "/api/v1/memories?space=%2e%2e"}, 400, "BAD_REQUEST", []string{"space query parameter"}},
		{"query ..%2F..%2Fetc", req{path: remember + "?space=..%2F..%2Fetc", body: `{"content":"x"}`}, 400, "BAD_REQUEST", []string{"space query parameter"}},
		{"body ../victim", req{path: remember, body: `{"content":"x","memory_space":"../victim"}`}, 400, "BAD_REQUEST", []string{"memory_space body field"}},
		{"body memory_space_id a/b", req{path: remember, body: `{"content":"x","memory_space_id":"a/b"}`}, 400, "BAD_REQUEST", []string{"memory_space body field"}},
		{"create space ../x", req{path: "/api/v1/spaces", body: `{"id":"../x"}`}, 400, "BAD_REQUEST", []string{"../x"}},
		{"space path %2e%2e", req{method: http.MethodDelete, path: "/api/v1/spaces/%2e%2e"}, 404, "RESOURCE_NOT_FOUND", nil},
		{"space path ..%2Fvictim", req{method: http.MethodDelete, path: "/api/v1/spaces/..%2Fvictim"}, 404, "RESOURCE_NOT_FOUND", nil},
		{"space path a%2Fb", req{path: "/api/v1/spaces/a%2Fb"}, 404, "RESOURCE_NOT_FOUND", nil},
		{"stream space ../x", req{path: "/api/v1/stream/activities?space=..%2Fx"}, 400, "BAD_REQUEST", []string{"space query parameter"}},

		// Path traversal in memory ids.
		{"memory id ../x", req{path: remember, body: `{"content":"x","id":"../x"}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"id"}},
		{"memory id a/b", req{path: remember, body: `{"content":"x","id":"a/b"}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"id"}},
		{"memory id ..", req{path: remember, body: `{"content":"x","id":".."}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"id", `".."`}},
		{"lone surrogate in content", req{path: remember, body: `{"content":"x\ud800"}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON body", "surrogate"}},
		{"unknown escape in content", req{path: remember, body: `{"content":"x\qy"}`, header: h}, 400, "BAD_REQUEST", []string{"malformed JSON body", "invalid escape"}},
		{"memory id with a backslash", req{path: remember, body: `{"content":"x","id":"..\\x"}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"id"}},
		{"memory id too long", req{path: remember, body: `{"content":"x","id":"` + strings.Repeat("i", 129) + `"}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"id"}},
		{"get ..%2F..%2Fetc%2Fpasswd", req{path: "/api/v1/memories/..%2F..%2Fetc%2Fpasswd", header: h}, 404, "RESOURCE_NOT_FOUND", nil},
		{"delete %2e%2e", req{method: http.MethodDelete, path: "/api/v1/memories/%2e%2e", header: h}, 404, "RESOURCE_NOT_FOUND", nil},
		{"delete ..%2Fsentinel-1", req{method: http.MethodDelete, path: "/api/v1/memories/..%2Fsentinel-1", header: h}, 404, "RESOURCE_NOT_FOUND", nil},
		{"get NUL in id", req{path: "/api/v1/memories/a%00b", header: h}, 404, "MEMORY_NOT_FOUND", nil},
		{"consolidation ../x", req{path: "/api/v1/consolidations/..%2Fx", header: h}, 404, "RESOURCE_NOT_FOUND", nil},

		// Invalid UTF-8.
		{"invalid UTF-8 in content", req{path: remember, body: "{\"content\":\"bad \xff\xfe bytes\"}", header: h}, 400, "INVALID_MEMORY_INPUT", []string{"content", "UTF-8"}},
		{"invalid UTF-8 in episode what", req{path: "/api/v1/episodes/remember", body: "{\"what\":\"\xc3\x28\",\"when\":\"2024-01-01T00:00:00Z\"}", header: h}, 400, "INVALID_MEMORY_INPUT", []string{"UTF-8"}},

		// Size.
		{"10 MB body", req{path: remember, body: tenMB, header: h}, 413, "PAYLOAD_TOO_LARGE", []string{"max_body_bytes"}},
		{"content over max_content_bytes", req{path: remember, body: `{"content":"` + strings.Repeat("c", engine.MaxContentBytes+1) + `"}`, header: h}, 400, "INVALID_MEMORY_INPUT", []string{"content", "max_content_bytes"}},

		// Header injection through the query string (the header itself is below).
		{"CRLF in space parameter", req{path: "/api/v1/memories?space=victim%0d%0aX-Injected:%20yes"}, 400, "BAD_REQUEST", []string{"space query parameter"}},
		{"CRLF in Last-Event-ID parameter", req{path: "/api/v1/stream/activities?last_event_id=1%0d%0aX-Injected:%20yes", header: h}, 400, "BAD_REQUEST", []string{"last_event_id"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.r.method == "" && c.r.body != "" {
				c.r.method = http.MethodPost
			}
			a := ts.do(t, c.r)
			a.expectError(t, c.status, c.code, c.words...)
			if a.header.Get("X-Injected") != "" {
				t.Fatal("a request header was injected into the answer")
			}
		})
	}

	// Header injection on the wire: a CR, NUL or folded continuation inside X-Memory-Space
	// never reaches a handler as part of a space id, and never comes back as a header.
	raw := []struct {
		name, request string
		status        int
		word          string
	}{
		{"bare CR", "GET /api/v1/memories HTTP/1.1\r\nHost: x\r\nX-Memory-Space: vic\rtim\r\n\r\n", 400, "malformed HTTP request"},
		{"NUL", "GET /api/v1/memories HTTP/1.1\r\nHost: x\r\nX-Memory-Space: victim\x00evil\r\n\r\n", 400, "malformed HTTP request"},
		{"obsolete line folding", "GET /api/v1/memories HTTP/1.1\r\nHost: x\r\nX-Memory-Space: victim\r\n X-Injected: folded\r\n\r\n", 400, "X-Memory-Space header"},
		{"encoded CRLF", "GET /api/v1/memories HTTP/1.1\r\nHost: x\r\nX-Memory-Space: victim%0d%0aX-Injected: yes\r\n\r\n", 400, "X-Memory-Space header"},
		{"CRLF in Last-Event-ID", "GET /api/v1/stream/activities HTTP/1.1\r\nHost: x\r\nX-Memory-Space: victim\r\nLast-Event-ID: 1\r\n X-Injected: yes\r\n\r\n", 400, "Last-Event-ID"},
		// A transport-level error answers the shared shape and never repeats the request,
		// whose Authorization header holds a key.
		{"duplicate Content-Length with a bearer key", "POST /api/v1/memories/remember HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + wireSecret + "\r\nContent-Length: 15\r\nContent-Length: 15\r\n\r\n{\"content\":\"x\"}", 400, "malformed HTTP request"},
		{"bad Content-Length with a bearer key", "POST /api/v1/memories/remember HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + wireSecret + "\r\nContent-Length: 1x\r\n\r\n{}", 400, "malformed HTTP request"},
		{"bad request line after a bearer key", "POST /api/v1/memories/remember HTTP/1.1\r\nAuthorization: Bearer " + wireSecret + "\r\nHost: x\r\nX-Memory-Space: a\x00b\r\n\r\n", 400, "malformed HTTP request"},
	}
	for _, c := range raw {
		t.Run("wire "+c.name, func(t *testing.T) {
			conn, err := ts.ln.Dial()
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write([]byte(c.request)); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no HTTP answer: %v", err)
			}
			defer resp.Body.Close()
			body := make([]byte, 0, 1024)
			buf := make([]byte, 1024)
			for {
				n, err := resp.Body.Read(buf)
				body = append(body, buf[:n]...)
				if err != nil {
					break
				}
			}
			a := answer{status: resp.StatusCode, header: resp.Header, body: body}
			a.expectError(t, c.status, "BAD_REQUEST", c.word)
			if strings.Contains(string(body), wireSecret) || strings.Contains(fmt.Sprint(resp.Header), wireSecret) {
				t.Fatalf("the answer repeats the request's key: %s", body)
			}
			for k := range resp.Header {
				if strings.EqualFold(k, "X-Injected") {
					t.Fatal("a request header was injected into the answer")
				}
			}
		})
	}

	// A batch of only bad items names each by index and stores nothing.
	t.Run("batch of bad items", func(t *testing.T) {
		m := ts.post(t, "/api/v1/memories/batch", `[{"content":5},{"content":"x","embedding":[1e39,1,1,1,1,1,1,1]},{"content":"x","id":"../x"},{"content":"x","confidence":2}]`, "X-Memory-Space", badInputSpace).
			expectStatus(t, http.StatusOK).object(t)
		if num(t, m, "accepted") != 0 {
			t.Fatalf("accepted %v", m["accepted"])
		}
		want := []string{"content", "embedding[0]", "id", "confidence"}
		errs := arr(t, m, "errors")
		if len(errs) != len(want) {
			t.Fatalf("errors %v", errs)
		}
		for i, e := range errs {
			em := e.(map[string]any)
			if num(t, em, "index") != float64(i) || !strings.Contains(str(t, em, "error"), want[i]) {
				t.Errorf("error %d: %v, want index %d naming %q", i, em, i, want[i])
			}
		}
	})

	if after := storedState(t, ts, sentinel); after != before {
		t.Fatalf("bad input changed the stored data:\nbefore %s\nafter  %s", before, after)
	}
	// The server still serves.
	ts.get(t, "/api/v1/memories/"+sentinel, "X-Memory-Space", badInputSpace).expectStatus(t, http.StatusOK)
}

// TestBodySpaceIsNormalisedOnce: the space a body names is normalised (surrounding white
// space trimmed) the same way wherever it is compared, so a batch whose space was taken
// from an item after trimming accepts the items that differ from it only by white space,
// and a body's two space fields agree when they differ only so. Items naming another
// space are still refused, and the other space sees nothing.
func TestBodySpaceIsNormalisedOnce(t *testing.T) {
	ts := newTestServer(t)
	m := ts.post(t, "/api/v1/memories/batch", `[
		{"content":"a","memory_space":" trimmed "},
		{"content":"b","memory_space":"trimmed"},
		{"content":"c","memory_space":"trimmed\t","memory_space_id":" trimmed"},
		{"content":"d","memory_space_id":"trimmed "},
		{"content":"e","memory_space":"elsewhere"}]`).expectStatus(t, http.StatusOK).object(t)
	if num(t, m, "accepted") != 4 || str(t, m, "memory_space_id") != "trimmed" {
		t.Fatalf("answer %v, want 4 accepted into trimmed", m)
	}
	errs := arr(t, m, "errors")
	if len(errs) != 1 || num(t, errs[0].(map[string]any), "index") != 4 || !strings.Contains(str(t, errs[0].(map[string]any), "error"), "elsewhere") {
		t.Fatalf("errors %v, want item 4 refused for naming elsewhere", errs)
	}
	ts.post(t, "/api/v1/memories/remember", `{"content":"f","memory_space":" trimmed","memory_space_id":"trimmed "}`).expectStatus(t, http.StatusCreated)
	sp, err := ts.eng.Space("trimmed")
	if err != nil {
		t.Fatal(err)
	}
	if n := sp.Stats().Memories; n != 5 {
		t.Fatalf("trimmed holds %d memories, want 5", n)
	}
	if other, err := ts.eng.Space("elsewhere"); err == nil && other.Stats().Memories > 0 {
		t.Fatalf("elsewhere holds %d memories", other.Stats().Memories)
	}
	ts.post(t, "/api/v1/memories/remember", `{"content":"g","memory_space":"trimmed","memory_space_id":"elsewhere"}`).
		expectError(t, http.StatusBadRequest, "BAD_REQUEST", "different memory spaces")
}
