package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/engram-go/engram/client"
	"github.com/engram-go/engram/internal/apicheck"
	"github.com/engram-go/engram/internal/enginetest"
)

// The end-to-end tests run the real binary, built once here. -short skips them.
var (
	engramBin string
	buildErr  error
	// apiCheck validates every HTTP exchange of the tests against the OpenAPI document:
	// TestMain puts it in front of http.DefaultTransport, which every client of these
	// tests (and the CLI's, run in process) uses.
	apiCheck *apicheck.Validator
	// mcpHTTP is a client without that check, for the MCP endpoint: it speaks JSON-RPC on
	// its own listener, which the REST API's OpenAPI document does not describe (docs/mcp.md).
	mcpHTTP = &http.Client{Transport: http.DefaultTransport}
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(func() int {
		v, err := apicheck.New()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		apiCheck = v
		http.DefaultTransport = v.Transport(http.DefaultTransport)
		return enginetest.MainWithBinary(m, ".", v, func(path string, err error) { engramBin, buildErr = path, err })
	}())
}

func needBinary(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// e2eEnv is an environment isolated from the developer's: its own home, no ENGRAM_*
// variables, no XDG overrides.
func e2eEnv(t *testing.T) []string {
	t.Helper()
	return enginetest.IsolatedEnv(t.TempDir())
}

// syncBuffer collects a process's output while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is a running `engram start`.
type server struct {
	t        *testing.T
	cmd      *exec.Cmd
	stderr   *syncBuffer
	http     string
	dataRoot string
	exited   chan struct{}
	waitErr  error
}

// startServer runs `engram start` on ports the kernel picks and waits until it serves
// HTTP; the bound HTTP port is read back from the PID file.
func startServer(t *testing.T, env []string, dataRoot string, extra ...string) *server {
	t.Helper()
	s := launch(t, env, dataRoot, "127.0.0.1:0", "127.0.0.1:0", extra...)
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-s.exited:
			t.Fatalf("server exited at start (%v):\n%s", s.waitErr, s.stderr)
		default:
		}
		if p, err := readPIDFile(filepath.Join(dataRoot, "engram.pid")); err == nil && p.PID == s.cmd.Process.Pid {
			s.http = net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port))
			if resp, err := http.Get("http://" + s.http + "/health/alive"); err == nil {
				resp.Body.Close()
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready after 30s:\n%s", s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// launch starts the process without waiting for it to serve.
func launch(t *testing.T, env []string, dataRoot, httpAddr, grpcAddr string, extra ...string) *server {
	t.Helper()
	// The MCP endpoint, on by default, binds a free port too so that test servers never collide.
	args := append([]string{"start", "--data-root", dataRoot, "--http", httpAddr, "--grpc", grpcAddr, "--mcp", "127.0.0.1:0"}, extra...)
	s := &server{t: t, cmd: exec.Command(engramBin, args...), stderr: &syncBuffer{}, http: httpAddr,
		dataRoot: dataRoot, exited: make(chan struct{})}
	s.cmd.Env = env
	s.cmd.Stderr = s.stderr
	s.cmd.Stdout = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
	return s
}

// wait waits for the process to exit and returns its exit code.
func (s *server) wait(timeout time.Duration) int {
	s.t.Helper()
	select {
	case <-s.exited:
	case <-time.After(timeout):
		s.t.Fatalf("server still running after %s:\n%s", timeout, s.stderr)
	}
	var ee *exec.ExitError
	if errors.As(s.waitErr, &ee) {
		return ee.ExitCode()
	}
	if s.waitErr != nil {
		s.t.Fatalf("wait: %v", s.waitErr)
	}
	return 0
}

// engram runs one command of the binary and returns its exit code and output.
func engram(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, engramBin, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("engram %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

// mustEngram runs a command that must succeed.
func mustEngram(t *testing.T, env []string, args ...string) string {
	t.Helper()
	code, out, errOut := engram(t, env, args...)
	if code != 0 {
		t.Fatalf("engram %v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	return out
}

var recoveredLine = regexp.MustCompile(`Recovered '([a-z0-9_-]+)': (\d+) entries, (\d+) corrupted`)

func TestE2ESpacesSurviveRestart(t *testing.T) {
	needBinary(t)
	env := e2eEnv(t)
	data := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, env, data)
	cli := func(args ...string) string { return mustEngram(t, env, append(args, "--data-root", data)...) }

	if out := cli("space", "create", "alpha"); out != "Created memory space 'alpha'\n" {
		t.Fatalf("create alpha: %q", out)
	}
	if out := cli("space", "create", "beta"); out != "Created memory space 'beta'\n" {
		t.Fatalf("create beta: %q", out)
	}
	want := map[string]int{"alpha": 2, "beta": 3, "default": 1}
	ids := map[string][]string{}
	for space, n := range want {
		for i := 0; i < n; i++ {
			args := []string{"remember", fmt.Sprintf("%s note %d about the %s project", space, i, space), "--json"}
			if space != "default" {
				args = append(args, "--space", space)
			}
			var ans struct {
				MemoryID string `json:"memory_id"`
			}
			if out := cli(args...); json.Unmarshal([]byte(out), &ans) != nil || ans.MemoryID == "" {
				t.Fatalf("remember printed %q", out)
			}
			ids[space] = append(ids[space], ans.MemoryID)
		}
	}

	if out := cli("stop"); !strings.HasPrefix(out, "Engram server stopped") {
		t.Fatalf("stop printed %q", out)
	}
	if code := srv.wait(30 * time.Second); code != 0 {
		t.Fatalf("server exit code %d after stop:\n%s", code, srv.stderr)
	}
	if _, err := os.Stat(filepath.Join(data, "engram.pid")); !os.IsNotExist(err) {
		t.Fatalf("PID file left after stop: %v", err)
	}
	if out := cli("stop"); out != noServer+"\n" {
		t.Fatalf("second stop printed %q", out)
	}

	srv = startServer(t, env, data)
	logs := srv.stderr.String()
	if !strings.Contains(logs, "Discovered 3 memory spaces: [alpha, beta, default]") {
		t.Fatalf("no discovery line in:\n%s", logs)
	}
	recovered := map[string]bool{}
	for _, m := range recoveredLine.FindAllStringSubmatch(logs, -1) {
		t.Log(m[0])
		entries, _ := strconv.Atoi(m[2])
		// entries counts write-ahead log records replayed: at least the one remember
		// record of each memory (association edges and access stats add more).
		if entries < want[m[1]] || m[3] != "0" {
			t.Errorf("%s: want at least %d entries and 0 corrupted", m[0], want[m[1]])
		}
		recovered[m[1]] = true
	}
	for space := range want {
		if !recovered[space] {
			t.Errorf("no recovery line for %q in:\n%s", space, logs)
		}
	}

	var h client.SystemHealth
	if out := cli("status", "--json"); json.Unmarshal([]byte(out), &h) != nil {
		t.Fatalf("status --json printed %q", out)
	}
	got := map[string]int{}
	for _, s := range h.Spaces {
		got[s.Space] = int(s.Memories)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || h.Status != "healthy" {
		t.Fatalf("status after restart: %s %v, want %v", h.Status, got, want)
	}
	table := cli("status")
	for _, row := range []string{"│ alpha              │         2 │", "│ beta               │         3 │", "│ default            │         1 │"} {
		if !strings.Contains(table, row) {
			t.Errorf("status table lacks %q:\n%s", row, table)
		}
	}
	if list := cli("space", "list"); !strings.Contains(list, "3 memory spaces") {
		t.Errorf("space list:\n%s", list)
	}

	// Each space recalls its own memories and never another's.
	if out := cli("recall", "alpha note project", "--space", "alpha", "--json"); !strings.Contains(out, ids["alpha"][0]) {
		t.Errorf("alpha recall lacks its memory:\n%s", out)
	}
	if out := cli("recall", "alpha note project", "--space", "beta", "--json"); strings.Contains(out, ids["alpha"][0]) ||
		strings.Contains(out, ids["alpha"][1]) {
		t.Errorf("beta recall shows alpha's memory:\n%s", out)
	}
	cli("forget", ids["beta"][0], "--space", "beta")
	if code, _, errOut := engram(t, env, "forget", ids["beta"][0], "--space", "beta", "--data-root", data); code == 0 || !strings.Contains(errOut, "MEMORY_NOT_FOUND") {
		t.Errorf("second forget: exit %d, %q", code, errOut)
	}

	cli("stop")
	if code := srv.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, srv.stderr)
	}
}

func TestE2EPortInUse(t *testing.T) {
	needBinary(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	env := e2eEnv(t)
	for _, tc := range []struct{ name, http, grpc, flag string }{
		{"http", busy.Addr().String(), "127.0.0.1:0", "--http"},
		{"grpc", "127.0.0.1:0", busy.Addr().String(), "--grpc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			srv := launch(t, env, data, tc.http, tc.grpc)
			if code := srv.wait(30 * time.Second); code == 0 {
				t.Fatalf("exit 0 with %s busy:\n%s", busy.Addr(), srv.stderr)
			}
			msg := srv.stderr.String()
			if !strings.Contains(msg, "cannot listen on "+busy.Addr().String()) || !strings.Contains(msg, "already in use") ||
				!strings.Contains(msg, tc.flag) {
				t.Fatalf("unclear message:\n%s", msg)
			}
			if _, err := os.Stat(filepath.Join(data, "engram.pid")); !os.IsNotExist(err) {
				t.Fatalf("PID file written by a server that did not start: %v", err)
			}
		})
	}
}

func TestE2ESecondServerOnSameDataRootRefused(t *testing.T) {
	needBinary(t)
	env := e2eEnv(t)
	data := filepath.Join(t.TempDir(), "data")
	first := startServer(t, env, data)
	second := launch(t, env, data, "127.0.0.1:0", "127.0.0.1:0")
	if code := second.wait(30 * time.Second); code == 0 || !strings.Contains(second.stderr.String(), "already running") {
		t.Fatalf("second server: exit %d:\n%s", code, second.stderr)
	}
	// With its own PID file the second server still finds the data root locked.
	third := launch(t, append(env, "ENGRAM_PID_PATH="+filepath.Join(t.TempDir(), "other.pid")), data, "127.0.0.1:0", "127.0.0.1:0")
	if code := third.wait(30 * time.Second); code == 0 || !strings.Contains(third.stderr.String(), "is locked") {
		t.Fatalf("server with another PID file: exit %d:\n%s", code, third.stderr)
	}
	// The refused starts left the first server's PID file alone.
	mustEngram(t, env, "stop", "--data-root", data)
	if code := first.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, first.stderr)
	}
}

func TestE2EStopBySignalIsGraceful(t *testing.T) {
	needBinary(t)
	env := e2eEnv(t)
	data := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, env, data)
	if err := srv.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := srv.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGINT:\n%s", code, srv.stderr)
	}
	if !strings.Contains(srv.stderr.String(), "every memory space flushed and closed") {
		t.Fatalf("no clean shutdown line:\n%s", srv.stderr)
	}
	if _, err := os.Stat(filepath.Join(data, "engram.pid")); !os.IsNotExist(err) {
		t.Fatalf("PID file left: %v", err)
	}
}

func TestE2EClientWithoutServer(t *testing.T) {
	needBinary(t)
	// Nothing listens at the configured address (ENGRAM_HTTP_LISTEN), and no PID file exists.
	addr := enginetest.FreeAddr(t)
	env := append(e2eEnv(t), "ENGRAM_HTTP_LISTEN="+addr)
	data := filepath.Join(t.TempDir(), "data")
	code, out, errOut := engram(t, env, "status", "--data-root", data)
	if code == 0 || out != "" || !strings.Contains(errOut, "no Engram server is answering at "+addr) {
		t.Fatalf("status without server: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, out, _ := engram(t, env, "stop", "--data-root", data); code != 0 || out != noServer+"\n" {
		t.Fatalf("stop without server: exit %d, %q", code, out)
	}
}

// httpJSON is a small HTTP helper for the end-to-end tests. body is encoded as JSON,
// except a string, which is sent as it is (for bodies that are not valid JSON on purpose).
func httpJSON(c *http.Client, method, url, space string, body any) (int, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		enc, _ := json.Marshal(b)
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if space != "" {
		req.Header.Set("X-Memory-Space", space)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// callJSON is httpJSON for a test that wants the answer as a JSON object (nil when the
// answer is not one); a failed request fails the test.
func callJSON(t *testing.T, c *http.Client, method, url, space string, body any) (int, map[string]any) {
	t.Helper()
	status, raw, err := httpJSON(c, method, url, space, body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return status, out
}
