package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
