package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/engram-go/engram/frontend/apikey"
)

// TestE2EInputChecksAndStreamResume drives the real binary: memory ids "." and "..", and
// JSON escapes the parser would only decode best effort, are refused with 400 naming the
// problem and store nothing; an SSE subscriber that says Last-Event-ID: 0 receives what its
// space stored before it connected, and nothing of another space.
func TestE2EInputChecksAndStreamResume(t *testing.T) {
	needBinary(t)
	env := e2eEnv(t)
	srv := startServer(t, env, filepath.Join(t.TempDir(), "data"))
	base := "http://" + srv.http

	post := func(space, body string) (int, map[string]any) {
		t.Helper()
		return callJSON(t, http.DefaultClient, http.MethodPost, base+"/api/v1/memories/remember", space, body)
	}
	bad := []struct {
		name, body, words string
	}{
		{"id ..", `{"content":"x","id":".."}`, "id"},
		{"id .", `{"content":"x","id":"."}`, "id"},
		{"lone surrogate", `{"content":"x\ud800"}`, "surrogate"},
		{"unknown escape", `{"content":"x\qy"}`, "invalid escape"},
	}
	for _, tc := range bad {
		status, out := post("tenant-a", tc.body)
		errObj, _ := out["error"].(map[string]any)
		msg, _ := errObj["message"].(string)
		if status != http.StatusBadRequest || !strings.Contains(msg, tc.words) {
			t.Fatalf("%s: status %d, error %v; want 400 mentioning %q", tc.name, status, out, tc.words)
		}
	}

	status, out := post("tenant-a", `{"content":"stored before the subscriber","id":"before"}`)
	if status != http.StatusCreated {
		t.Fatalf("remember: %d %v", status, out)
	}
	if status, out = post("tenant-b", `{"content":"another tenant","id":"other"}`); status != http.StatusCreated {
		t.Fatalf("remember in tenant-b: %d %v", status, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/stream/memories", nil)
	req.Header.Set("X-Memory-Space", "tenant-a")
	req.Header.Set("Last-Event-ID", "0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// The refused requests published nothing; the first buffered event is "before"'s.
	sc := bufio.NewScanner(resp.Body)
	var first string
	for first == "" && sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "data:") {
			first = line
		}
	}
	if first == "" {
		t.Fatalf("stream ended without an event: %v", sc.Err())
	}
	if !strings.Contains(first, `"before"`) || strings.Contains(first, `"other"`) {
		t.Fatalf("replayed event %s, want the storage of memory before", first)
	}
	cancel()
	_, _ = io.Copy(io.Discard, resp.Body)

	// Nothing of the refused requests was stored.
	resp2, err := http.Get(base + "/api/v1/spaces/tenant-a")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var sp map[string]any
	_ = json.NewDecoder(resp2.Body).Decode(&sp)
	if n, _ := sp["memories"].(float64); n != 1 {
		t.Fatalf("tenant-a holds %v memories, want 1: %v", sp["memories"], sp)
	}
}

// peakRSS reads the process's peak resident set (VmHWM) from /proc, in bytes; 0 where
// /proc is not there.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	return 0
}

// TestE2EHostileInput drives the real binary, with auth on, with what a hostile or careless
// client sends: bodies of millions of small numbers (413 before they are parsed, with or
// without a key, and the server's peak memory stays far below what parsing them took), a
// malformed request carrying a bearer key (the answer and the log never repeat it), numbers
// outside the JSON grammar, embeddings of length 0, and batch items whose space differs
// from the batch's only by white space. Nothing refused is stored, and the other tenant
// sees nothing of what was.
func TestE2EHostileInput(t *testing.T) {
	needBinary(t)
	env := e2eEnv(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("[security]\nauth = \"api_key\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"--config", cfg, "--data-root", data}
	key, _ := keyCreate(t, env, append(common, "--space", "tenant-a", "--space", "tenant-b", "--name", "app")...)
	other, _ := keyCreate(t, env, append(common, "--space", "tenant-b", "--name", "other")...)
	srv := startServer(t, env, data, "--config", cfg)
	base := "http://" + srv.http
	if !strings.Contains(srv.stderr.String(), "memory limit set") {
		t.Errorf("no memory limit logged at start:\n%s", srv.stderr)
	}

	call := func(path, k, space, contentType string, body []byte) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if k != "" {
			req.Header.Set("Authorization", "Bearer "+k)
		}
		if space != "" {
			req.Header.Set("X-Memory-Space", space)
		}
		if contentType == "" {
			contentType = "application/json"
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	// Memory bombs: 8 MB of "0," in an unknown field, sent three at a time as in the
	// report, by a key of the space, by a key of another space and with no key.
	bomb := func(prefix, suffix string) []byte {
		n := (8<<20 - 1024 - len(prefix) - len(suffix)) / 2
		return []byte(prefix + strings.TrimSuffix(strings.Repeat("0,", n), ",") + suffix)
	}
	bombs := []struct {
		name, path, key string
		body            []byte
		status          int
	}{
		{"recall", "/api/v1/memories/recall", key, bomb(`{"query":"x","junk":[`, `]}`), 413},
		{"remember", "/api/v1/memories/remember", key, bomb(`{"content":"x","junk":[`, `]}`), 413},
		{"batch", "/api/v1/memories/batch", key, bomb(`[{"content":"x","junk":[`, `]}]`), 413},
		{"episode", "/api/v1/episodes/remember", key, bomb(`{"what":"x","when":"2024-01-01T00:00:00Z","junk":[`, `]}`), 413},
		{"key of another space", "/api/v1/memories/recall", other, bomb(`{"query":"x","junk":[`, `]}`), 403},
		{"no key", "/api/v1/memories/recall", "", bomb(`{"query":"x","junk":[`, `]}`), 401},
	}
	before := peakRSS(t, srv.cmd.Process.Pid)
	for _, b := range bombs {
		var wg sync.WaitGroup
		statuses := make([]int, 3)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i], _ = call(b.path, b.key, "tenant-a", "", b.body)
			}()
		}
		wg.Wait()
		for _, st := range statuses {
			if st != b.status {
				t.Fatalf("%s bomb: status %d, want %d", b.name, st, b.status)
			}
		}
	}
	if after := peakRSS(t, srv.cmd.Process.Pid); after > 0 {
		t.Logf("peak RSS %d MiB before the bombs, %d MiB after", before>>20, after>>20)
		// Three 8 MB bodies at once, read into fasthttp's buffers, plus the bound of
		// 2 × max_body_bytes each: far under the 1.8 GB one such body took to parse.
		if after > before+256<<20 {
			t.Fatalf("peak RSS rose from %d MiB to %d MiB serving the bombs", before>>20, after>>20)
		}
	}

	// A malformed request with a bearer key: the answer is the JSON error shape and
	// neither it nor the log holds the key.
	conn, err := net.Dial("tcp", srv.http)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/v1/memories/remember HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 15\r\nContent-Length: 15\r\n\r\n{\"content\":\"x\"}", key)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	conn.Close()
	secret := strings.TrimPrefix(key, apikey.Prefix)
	if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(string(raw), `{"error":{"code":"BAD_REQUEST"`) || strings.Contains(string(raw), secret) {
		t.Fatalf("duplicate Content-Length answered %d %s", resp.StatusCode, raw)
	}

	// Numbers outside RFC 8259 and embeddings of length 0 are refused, naming the fault.
	zeros := "[" + strings.TrimSuffix(strings.Repeat("0,", 768), ",") + "]"
	tiny := "[" + strings.TrimSuffix(strings.Repeat("1e-45,", 768), ",") + "]"
	for _, c := range []struct{ name, body, words string }{
		{"leading zero", `{"content":"x","confidence":01}`, "leading zero"},
		{"trailing dot", `{"content":"x","confidence":1.}`, "decimal point"},
		{"leading dot", `{"content":"x","confidence":.5}`, "0.5, not .5"},
		{"plus sign", `{"content":"x","confidence":+1}`, "'+'"},
		{"zero embedding", `{"content":"x","embedding":` + zeros + `}`, "length 0"},
		{"underflowing embedding", `{"content":"x","embedding":` + tiny + `}`, "length 0"},
	} {
		if st, body := call("/api/v1/memories/remember", key, "tenant-a", "", []byte(c.body)); st != http.StatusBadRequest || !strings.Contains(body, c.words) {
			t.Errorf("%s: %d %s; want 400 mentioning %q", c.name, st, body, c.words)
		}
	}

	// A batch whose items name the space with and without surrounding white space.
	st, body := call("/api/v1/memories/batch", key, "", "", []byte(`[{"content":"one","memory_space":" tenant-a "},{"content":"two","memory_space":"tenant-a"}]`))
	if st != http.StatusOK || !strings.Contains(body, `"accepted":2`) {
		t.Fatalf("batch with white space around the space: %d %s", st, body)
	}
	for space, want := range map[string]int{"tenant-a": 2, "tenant-b": 0} {
		status, out := callJSONKey(t, base+"/api/v1/memories?space="+space, key)
		counts, _ := out["tier_counts"].(map[string]any)
		if total, _ := counts["total"].(float64); status != http.StatusOK || int(total) != want {
			t.Fatalf("%s lists %v (status %d), want %d memories", space, out, status, want)
		}
	}
	if strings.Contains(srv.stderr.String(), secret) {
		t.Fatal("the server's log holds a key")
	}
}

// callJSONKey GETs url with a bearer key and decodes the JSON answer.
func callJSONKey(t *testing.T, url, key string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}
