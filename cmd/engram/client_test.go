package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/engram-go/engram/client"
	"github.com/engram-go/engram/cmd/engram/config"
)

// recorded is one request seen by the fake server.
type recorded struct {
	method, path, space string
	query               url.Values
	body                map[string]any
	auth                string
	idempotencyKey      string
}

// fakeServer answers fixed responses by "METHOD path" and records every request.
type fakeServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	answers  map[string]fakeAnswer
}

type fakeAnswer struct {
	status int
	body   string
}

func newFakeServer(t *testing.T, answers map[string]fakeAnswer) *fakeServer {
	t.Helper()
	f := &fakeServer{answers: answers}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recorded{method: r.Method, path: r.URL.Path, space: r.Header.Get("X-Memory-Space"), query: r.URL.Query(), auth: r.Header.Get("Authorization"),
			idempotencyKey: r.Header.Get("Idempotency-Key")}
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			json.Unmarshal(b, &rec.body)
		}
		f.mu.Lock()
		f.requests = append(f.requests, rec)
		f.mu.Unlock()
		a, ok := f.answers[r.Method+" "+r.URL.Path]
		if !ok {
			a = fakeAnswer{404, `{"error":{"code":"RESOURCE_NOT_FOUND","message":"no route ` + r.URL.Path + `"}}`}
		}
		w.Header().Set("Content-Type", "application/json")
		if a.status == http.StatusTooManyRequests || a.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) last(t *testing.T) recorded {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("no request reached the server")
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeServer) addr() string { return strings.TrimPrefix(f.URL, "http://") }

// cli runs the command line in-process with an isolated environment: an empty
// configuration file and a data root under a temp dir.
type cli struct {
	env     map[string]string
	cfgFile string
	root    string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	dir := t.TempDir()
	c := &cli{env: map[string]string{}, cfgFile: filepath.Join(dir, "config.toml"), root: filepath.Join(dir, "data")}
	if err := os.WriteFile(c.cfgFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c.env[config.EnvDataRoot] = c.root
	return c
}

func (c *cli) run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = execute(append([]string{"--config", c.cfgFile}, args...), func(k string) string { return c.env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

// Answers in the documented shapes (every exchange is checked against the OpenAPI document).
const (
	fakeRemembered = `{"memory_id":"mem_1","storage_confidence":{"value":0.9,"category":"High","reasoning":"x"},` +
		`"consolidation_state":"Recent","observed_at":"2025-11-25T21:00:00Z","stored_at":"2025-11-25T21:00:00Z",` +
		`"auto_links":[],"system_message":"stored","memory_space_id":"tenant-a"}`
	fakeRecalled = `{"memories":{"vivid":[{"id":"mem_1","content":"hello world","confidence":{"value":0.9,"category":"High","reasoning":"x"},` +
		`"activation_level":0.8,"similarity_score":0.8,"retrieval_path":"direct","observed_at":"2025-11-25T21:00:00Z","last_access":null,` +
		`"tags":null,"memory_type":"episodic","relevance_explanation":"x"}],"associated":[],"reconstructed":[]},` +
		`"recall_confidence":{"value":0.9,"category":"High","reasoning":"x"},` +
		`"query_analysis":{"understood_intent":"x","search_strategy":"x","cognitive_load":"Low","suggestions":[]},` +
		`"metadata":null,"traces":null,"system_message":"x","memory_space_id":"tenant-a"}`
	fakeForgotten = `{"memory_id":"mem_1","forgotten":true,"memory_space_id":"tenant-a"}`
	fakeSpace     = `{"id":"alpha","memories":0,"created_at":"2025-11-25T21:16:00Z","persistence_root":"/d/alpha","settings":{},` +
		`"stats":{"hot":0,"warm":0,"cold":0,"hot_capacity":500,"pressure":0,"wal_lag_ms":0,"wal_bytes":0,"wal_segments":1,"lsn":0,` +
		`"durable_lsn":0,"consolidation_rate":0,"link_queue":0,"link_lag_ms":0,"index_lag":0,"indexed_rows":0,` +
		`"index_lag_work_ms":0,"link_lag_work_ms":0,"background_share":0.05,"edges":0,"dimension":768,"open":true},"created":%s}`
)

const healthyBody = `{"status":"healthy","timestamp":"2025-11-25T21:00:00Z","spaces":[
 {"space":"default","memories":1200,"pressure":0.012,"wal_lag_ms":0,"consolidation_rate":0,"tiers":{"hot":1200,"warm":0,"cold":0}},
 {"space":"production","memories":3500,"pressure":0.15,"wal_lag_ms":2.5,"consolidation_rate":12.3,"tiers":{"hot":3500,"warm":0,"cold":0}}]}`

func TestStatusCommand(t *testing.T) {
	srv := newFakeServer(t, map[string]fakeAnswer{"GET /api/v1/system/health": {200, healthyBody}})
	c := newCLI(t)
	code, out, errOut := c.run("status", "--addr", srv.addr())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "│ production         │      3500 │    15.0% │        2.50 │         12.30/s │\n"
	if !strings.HasPrefix(out, "Per-Space Metrics:\n") || !strings.Contains(out, want) {
		t.Fatalf("output:\n%s\nlacks %q", out, want)
	}

	code, _, _ = c.run("status", "--addr", srv.addr(), "--space", "production")
	if r := srv.lastTo(t, "/api/v1/system/health"); code != 0 || r.query.Get("space") != "production" {
		t.Fatalf("--space sent as %v (exit %d)", r.query, code)
	}

	code, out, _ = c.run("status", "--addr", srv.addr(), "--json")
	var h client.SystemHealth
	if code != 0 || json.Unmarshal([]byte(out), &h) != nil || len(h.Spaces) != 2 {
		t.Fatalf("--json printed %q (exit %d)", out, code)
	}
}

func TestStatusUnhealthyExitsNonZero(t *testing.T) {
	body := strings.Replace(healthyBody, `"healthy"`, `"unhealthy"`, 1)
	srv := newFakeServer(t, map[string]fakeAnswer{"GET /api/v1/system/health": {503, body}})
	code, out, errOut := newCLI(t).run("status", "--addr", srv.addr())
	if code == 0 || !strings.Contains(out, "production") || !strings.Contains(errOut, `"unhealthy"`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestClientCommandsSendTheSpaceHeader(t *testing.T) {
	srv := newFakeServer(t, map[string]fakeAnswer{
		"POST /api/v1/memories/remember": {201, fakeRemembered},
		"POST /api/v1/memories/recall":   {200, fakeRecalled},
		"DELETE /api/v1/memories/mem_1":  {200, fakeForgotten},
	})
	c := newCLI(t)
	for _, tc := range []struct {
		args       []string
		method     string
		path       string
		wantOut    string
		checkQuery func(url.Values) bool
		checkBody  func(map[string]any) bool
	}{
		{[]string{"remember", "hello world", "--space", "alpha", "--confidence", "0.9", "--tags", "a,b", "--type", "semantic"},
			"POST", "/api/v1/memories/remember", "Remembered mem_1 in space 'alpha' (confidence 0.90, High)\n", nil,
			func(b map[string]any) bool {
				tags, _ := b["tags"].([]any)
				return b["content"] == "hello world" && b["confidence"] == 0.9 && len(tags) == 2 && b["memory_type"] == "semantic"
			}},
		{[]string{"recall", "hello", "--space", "alpha", "--limit", "5"},
			"POST", "/api/v1/memories/recall", "Recalled 1 memory for \"hello\" in space 'alpha'", nil,
			func(b map[string]any) bool { return b["query"] == "hello" && b["max_results"] == 5.0 }},
		{[]string{"forget", "mem_1", "--space", "alpha"},
			"DELETE", "/api/v1/memories/mem_1", "Forgot mem_1 in space 'alpha'\n", nil, nil},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			code, out, errOut := c.run(append(tc.args, "--addr", srv.addr())...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !strings.HasPrefix(out, tc.wantOut) {
				t.Fatalf("printed %q, want %q", out, tc.wantOut)
			}
			r := srv.last(t)
			if r.method != tc.method || r.path != tc.path || r.space != "alpha" {
				t.Fatalf("request %s %s space %q", r.method, r.path, r.space)
			}
			if tc.checkQuery != nil && !tc.checkQuery(r.query) {
				t.Fatalf("query %v", r.query)
			}
			if tc.checkBody != nil && !tc.checkBody(r.body) {
				t.Fatalf("body %v", r.body)
			}
		})
	}
	// Without --space no header is sent: the server's default space applies.
	if code, _, _ := c.run("forget", "mem_1", "--addr", srv.addr()); code != 0 || srv.last(t).space != "" {
		t.Fatalf("header sent without --space: %q", srv.last(t).space)
	}
}

func TestSpaceCommands(t *testing.T) {
	srv := newFakeServer(t, map[string]fakeAnswer{
		"GET /api/v1/spaces":            {200, `{"spaces":[{"id":"alpha","memories":2,"created_at":"2025-11-25T21:16:00Z","persistence_root":"/d/alpha"},{"id":"default","memories":0,"created_at":"2025-11-25T21:00:00Z","persistence_root":"/d/default"}]}`},
		"POST /api/v1/spaces":           {201, fmt.Sprintf(fakeSpace, "true")},
		"DELETE /api/v1/spaces/default": {409, `{"error":{"code":"CONFLICT","message":"the default memory space cannot be deleted"}}`},
		"DELETE /api/v1/spaces/alpha":   {200, `{"id":"alpha","deleted":true}`},
	})
	c := newCLI(t)

	code, out, _ := c.run("space", "list", "--addr", srv.addr())
	if code != 0 || !strings.Contains(out, "│ alpha   │        2 │ 2025-11-25 21:16:00 UTC │") || !strings.HasSuffix(out, "2 memory spaces\n") {
		t.Fatalf("space list (exit %d):\n%s", code, out)
	}

	code, out, _ = c.run("space", "create", "alpha", "--hot-capacity", "500", "--addr", srv.addr())
	r := srv.last(t)
	if code != 0 || out != "Created memory space 'alpha'\n" || r.body["id"] != "alpha" || r.body["hot_capacity"] != 500.0 {
		t.Fatalf("create: exit %d, %q, body %v", code, out, r.body)
	}
	if _, set := r.body["dimension"]; set {
		t.Fatalf("unset flag sent: %v", r.body)
	}
	srv.answers["POST /api/v1/spaces"] = fakeAnswer{200, fmt.Sprintf(fakeSpace, "false")}
	if code, out, _ = c.run("space", "create", "alpha", "--addr", srv.addr()); code != 0 || out != "Memory space 'alpha' already exists\n" {
		t.Fatalf("existing create: exit %d, %q", code, out)
	}

	code, out, errOut := c.run("space", "delete", "default", "--addr", srv.addr())
	if code == 0 || out != "" || !strings.Contains(errOut, "the default memory space cannot be deleted (CONFLICT, HTTP 409)") {
		t.Fatalf("delete default: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, out, _ = c.run("space", "delete", "alpha", "--addr", srv.addr()); code != 0 || out != "Deleted memory space 'alpha'\n" {
		t.Fatalf("delete: exit %d, %q", code, out)
	}
}

func TestErrorAnswerWithoutJSONShape(t *testing.T) {
	srv := newFakeServer(t, map[string]fakeAnswer{"GET /api/v1/spaces": {502, "bad gateway"}})
	code, _, errOut := newCLI(t).run("space", "list", "--addr", srv.addr())
	if code == 0 || !strings.Contains(errOut, "bad gateway (HTTP 502)") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestNoServer(t *testing.T) {
	addr := closedAddr(t)
	for _, args := range [][]string{
		{"status"}, {"space", "list"}, {"remember", "x"}, {"recall", "x"}, {"forget", "mem_1"},
	} {
		code, out, errOut := newCLI(t).run(append(args, "--addr", addr)...)
		if code == 0 || out != "" || !strings.Contains(errOut, "no Engram server is answering at "+addr) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

func TestServerFoundThroughPIDFile(t *testing.T) {
	srv := newFakeServer(t, map[string]fakeAnswer{"GET /api/v1/system/health": {200, healthyBody}})
	c := newCLI(t)
	_, port, _ := net.SplitHostPort(srv.addr())
	n, _ := strconv.Atoi(port)
	if err := writePIDFile(filepath.Join(c.root, config.PIDFileName), pidFile{PID: os.Getpid(), Port: n}); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := c.run("status"); code != 0 || !strings.Contains(out, "production") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// ENGRAM_PID_PATH moves the PID file.
	c2 := newCLI(t)
	pidPath := filepath.Join(t.TempDir(), "elsewhere.pid")
	c2.env[config.EnvPIDPath] = pidPath
	if err := writePIDFile(pidPath, pidFile{PID: os.Getpid(), Port: n}); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := c2.run("status"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

func TestNormalizeAddr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1:7432", "127.0.0.1:7432"},
		{":7432", "127.0.0.1:7432"},
		{"0.0.0.0:80", "127.0.0.1:80"},
		{"http://example.com:9000/", "example.com:9000"},
		{"[::]:7432", "127.0.0.1:7432"},
		{"[::1]:7432", "[::1]:7432"},
	} {
		if got, err := normalizeAddr(tc.in); err != nil || got != tc.want {
			t.Errorf("normalizeAddr(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"localhost", "http://", ""} {
		if _, err := normalizeAddr(bad); err == nil {
			t.Errorf("normalizeAddr(%q) accepted", bad)
		}
	}
}

func TestStopWithoutServer(t *testing.T) {
	c := newCLI(t)
	if code, out, _ := c.run("stop"); code != 0 || out != noServer+"\n" {
		t.Fatalf("no PID file: exit %d, %q", code, out)
	}
	// A PID file naming an exited process is stale: reported and removed.
	pidPath := filepath.Join(c.root, config.PIDFileName)
	if err := writePIDFile(pidPath, pidFile{PID: deadPID(t), Port: 1}); err != nil {
		t.Fatal(err)
	}
	code, out, _ := c.run("stop")
	if code != 0 || !strings.HasPrefix(out, noServer) || !strings.Contains(out, "stale") {
		t.Fatalf("stale PID file: exit %d, %q", code, out)
	}
	if _, err := os.Stat(pidPath); !os.IsNotExist(err) {
		t.Fatalf("stale PID file left: %v", err)
	}
	// --addr with nothing listening.
	if code, out, _ := c.run("stop", "--addr", closedAddr(t)); code != 0 || out != noServer+"\n" {
		t.Fatalf("--addr: exit %d, %q", code, out)
	}
}

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	p, err := os.StartProcess("/bin/sh", []string{"sh", "-c", "exit 0"}, &os.ProcAttr{})
	if err != nil {
		t.Skip("no /bin/sh:", err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	return p.Pid
}

func TestConfigShow(t *testing.T) {
	c := newCLI(t)
	if err := os.WriteFile(c.cfgFile, []byte("[persistence]\nhot_capacity = 42\n[feature_flags]\nspreading_api_beta = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := c.run("config", "show")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"hot_capacity = 42", "data_root = " + strconv.Quote(c.root), "[spaces]", "frontends = [\"http\", \"grpc\", \"mcp\"]", "[mcp]", "[cluster]", "enabled = false"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "[feature_flags]") {
		t.Errorf("no notice for the ignored section: %q", errOut)
	}
	// The output is itself a valid configuration.
	shown := filepath.Join(t.TempDir(), "shown.toml")
	if err := os.WriteFile(shown, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(config.Source{Path: shown, Getenv: func(string) string { return "" }}); err != nil {
		t.Fatalf("shown configuration does not load: %v", err)
	}

	if err := os.WriteFile(c.cfgFile, []byte("[persistence]\nhot_capacty = 42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = c.run("config", "show")
	if code == 0 || !strings.Contains(errOut, ":2: unknown key \"hot_capacty\"") {
		t.Fatalf("bad file: exit %d, %q", code, errOut)
	}
}

func TestClientCommandsSendTheAPIKey(t *testing.T) {
	srv := newFakeServer(t, map[string]fakeAnswer{
		"DELETE /api/v1/memories/mem_1": {200, fakeForgotten},
	})
	c := newCLI(t)
	tests := []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"flag", "", []string{"--api-key", "engram_flag"}, "Bearer engram_flag"},
		{"environment", "engram_env", nil, "Bearer engram_env"},
		{"flag wins", "engram_env", []string{"--api-key", "engram_flag"}, "Bearer engram_flag"},
		{"none", "", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(envAPIKey, tc.env)
			args := append([]string{"forget", "mem_1", "--addr", srv.addr()}, tc.args...)
			if code, _, stderr := c.run(args...); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if got := srv.last(t).auth; got != tc.want {
				t.Fatalf("Authorization = %q, want %q", got, tc.want)
			}
		})
	}
}
