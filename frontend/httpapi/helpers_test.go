package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/frontendtest"
	"github.com/engram-go/engram/internal/apicheck"
	"github.com/engram-go/engram/internal/enginetest"
	"github.com/valyala/fasthttp/fasthttputil"
)

const testDim = 8

var discard = enginetest.QuietLogger()

// testServer is an engine plus the HTTP frontend served on an in-memory listener.
type testServer struct {
	t      *testing.T
	eng    *engine.Engine
	srv    *Server
	ln     *fasthttputil.InmemoryListener
	client *http.Client // connects from 127.0.0.1
}

type testOption func(*engine.Config, *frontend.Options)

func withFrontend(f func(*frontend.Options)) testOption {
	return func(_ *engine.Config, o *frontend.Options) { f(o) }
}

func withEngine(f func(*engine.Config)) testOption {
	return func(c *engine.Config, _ *frontend.Options) { f(c) }
}

func newTestServer(t testing.TB, opts ...testOption) *testServer {
	t.Helper()
	cfg := enginetest.Config(t, testDim)
	fo := frontend.Options{Logger: discard}
	for _, o := range opts {
		o(&cfg, &fo)
	}
	eng := enginetest.Open(t, cfg)
	fo.Engine = eng
	srv, err := New(fo)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln := fasthttputil.NewInmemoryListener()
	if err := srv.ServeOn(ln, ""); err != nil {
		t.Fatalf("ServeOn: %v", err)
	}
	ts := &testServer{eng: eng, srv: srv, ln: ln}
	if tt, ok := t.(*testing.T); ok {
		ts.t = tt
	}
	ts.client = clientFor(ln, "127.0.0.1")
	frontendtest.StopAtCleanup(t, srv, eng)
	return ts
}

// apiCheck validates every exchange of the tests' clients against the OpenAPI document;
// TestMain fails the run when any did not match.
var apiCheck = func() *apicheck.Validator {
	v, err := apicheck.New()
	if err != nil {
		panic(err)
	}
	return v
}()

func TestMain(m *testing.M) {
	code := m.Run()
	if f := apiCheck.Failures(); len(f) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d HTTP exchanges do not match the OpenAPI document:\n  %s\n", len(f), strings.Join(f, "\n  "))
		code = 1
	}
	os.Exit(code)
}

// clientFor returns an HTTP client whose connections reach ln from the given address.
// Its exchanges are validated against the OpenAPI document.
func clientFor(ln *fasthttputil.InmemoryListener, ip string) *http.Client {
	local := &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000}
	return &http.Client{Transport: apiCheck.Transport(&http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			return ln.DialWithLocalAddr(local)
		},
		MaxIdleConnsPerHost: 16,
	})}
}

// answer is a received HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// req describes a request; zero fields are left out.
type req struct {
	method      string
	path        string
	body        string
	contentType string
	header      map[string]string
}

func (ts *testServer) send(t testing.TB, client *http.Client, r req) answer {
	t.Helper()
	return ts.sendTo(t, client, "http://engram.test", r)
}

// sendTo sends r to the server at base ("http://host:port").
func (ts *testServer) sendTo(t testing.TB, client *http.Client, base string, r req) answer {
	t.Helper()
	method := r.method
	if method == "" {
		method = http.MethodGet
		if r.body != "" {
			method = http.MethodPost
		}
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(method, base+r.path, body)
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	if r.contentType != "" {
		hr.Header.Set("Content-Type", r.contentType)
	} else if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := client.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, r.path, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func (ts *testServer) do(t testing.TB, r req) answer { return ts.send(t, ts.client, r) }

// get and post are shorthands.
func (ts *testServer) get(t testing.TB, path string, header ...string) answer {
	return ts.do(t, req{path: path, header: pairs(header)})
}

func (ts *testServer) post(t testing.TB, path, body string, header ...string) answer {
	return ts.do(t, req{method: http.MethodPost, path: path, body: body, header: pairs(header)})
}

func pairs(kv []string) map[string]string {
	if len(kv) == 0 {
		return nil
	}
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// object decodes the body as a JSON object.
func (a answer) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", a.status, err, a.body)
	}
	return m
}

// expectStatus fails unless the answer has the status.
func (a answer) expectStatus(t testing.TB, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	return a
}

// expectError checks the shared error shape, the status, the code and that the message
// mentions each of the words.
func (a answer) expectError(t testing.TB, status int, code string, words ...string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error Content-Type %q, want application/json", ct)
	}
	var shape struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(a.body, &shape); err != nil || shape.Error == nil {
		t.Fatalf("error body is not the JSON error shape: %v: %s", err, a.body)
	}
	if shape.Error.Code != code {
		t.Fatalf("error code %q, want %q: %s", shape.Error.Code, code, a.body)
	}
	for _, w := range words {
		if !strings.Contains(shape.Error.Message, w) {
			t.Fatalf("error message %q does not mention %q", shape.Error.Message, w)
		}
	}
}

// axisVectorJSON returns a testDim vector pointing mostly along axis i, as JSON.
func axisVectorJSON(i int) string {
	v := make([]string, testDim)
	for k := range v {
		v[k] = "0.01"
	}
	v[i%testDim] = "1"
	return "[" + strings.Join(v, ",") + "]"
}

// remember stores content (with an optional space header) and returns the memory id.
func (ts *testServer) remember(t testing.TB, content string, header ...string) string {
	t.Helper()
	a := ts.post(t, "/api/v1/memories/remember", fmt.Sprintf(`{"content":%q}`, content), header...)
	a.expectStatus(t, http.StatusCreated)
	return str(t, a.object(t), "memory_id")
}

// str reads a string field.
func str(t testing.TB, m map[string]any, key string) string {
	t.Helper()
	s, ok := m[key].(string)
	if !ok {
		t.Fatalf("field %q is %T (%v), want a string", key, m[key], m[key])
	}
	return s
}

func obj(t testing.TB, m map[string]any, key string) map[string]any {
	t.Helper()
	o, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("field %q is %T (%v), want an object", key, m[key], m[key])
	}
	return o
}

func arr(t testing.TB, m map[string]any, key string) []any {
	t.Helper()
	a, ok := m[key].([]any)
	if !ok {
		t.Fatalf("field %q is %T (%v), want an array", key, m[key], m[key])
	}
	return a
}

func num(t testing.TB, m map[string]any, key string) float64 {
	t.Helper()
	n, ok := m[key].(json.Number)
	if !ok {
		t.Fatalf("field %q is %T (%v), want a number", key, m[key], m[key])
	}
	f, err := n.Float64()
	if err != nil {
		t.Fatalf("field %q: %v", key, err)
	}
	return f
}

// ids lists the "id" fields of an array of objects.
func ids(t testing.TB, items []any) []string {
	t.Helper()
	return enginetest.IDs(items, func(it any) string { return str(t, it.(map[string]any), "id") })
}

// recallIDs returns every id of a recall answer, vivid then associated then reconstructed.
func recallIDs(t testing.TB, a answer) []string {
	t.Helper()
	mem := obj(t, a.expectStatus(t, http.StatusOK).object(t), "memories")
	var out []string
	for _, k := range []string{"vivid", "associated", "reconstructed"} {
		out = append(out, ids(t, arr(t, mem, k))...)
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// newInmemoryListener returns a listener for an extra ServeOn; Stop closes it.
func newInmemoryListener(t testing.TB) *fasthttputil.InmemoryListener {
	t.Helper()
	return fasthttputil.NewInmemoryListener()
}

func withEngineAutoCreate(on bool) testOption {
	return withEngine(func(c *engine.Config) { c.AutoCreate = on })
}
