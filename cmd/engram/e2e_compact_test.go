package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestE2ECompactTiers checkpoints a space whose hot tier is over capacity through
// POST /api/v1/maintenance/compact: its memories move to the warm tier, the WAL behind the
// checkpoint is dropped, another space is untouched, and everything is still there after
// a SIGKILL and a restart.
func TestE2ECompactTiers(t *testing.T) {
	r := startE2E(t)
	call := r.call
	if code, out := call(http.MethodPost, "/api/v1/spaces", "", map[string]any{"id": "cmp-a", "hot_capacity": 2}); code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, out)
	}
	for i := range 6 {
		// Past its hot capacity the space answers 503 while it seals: retry, as a client would.
		for try := 0; ; try++ {
			code, out := call(http.MethodPost, "/api/v1/memories/remember", "cmp-a", map[string]any{"id": fmt.Sprintf("m%d", i), "content": fmt.Sprintf("memory number %d", i)})
			if code == http.StatusCreated {
				break
			}
			if code != http.StatusServiceUnavailable || try == 100 {
				t.Fatalf("remember: %d %v", code, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// auto_link: the answer waits for the memory's edges, so cmp-b's edge lane has logged
	// its links record before the snapshot below, and nothing but cmp-a's compaction could
	// change cmp-b's log after it.
	if code, out := call(http.MethodPost, "/api/v1/memories/remember", "cmp-b", map[string]any{"content": "untouched", "auto_link": true}); code != http.StatusCreated {
		t.Fatalf("remember: %d %v", code, out)
	}
	_, before := call(http.MethodGet, "/api/v1/spaces/cmp-b", "", nil)

	code, out := call(http.MethodPost, "/api/v1/maintenance/compact", "cmp-a", nil)
	after, _ := out["after"].(map[string]any)
	if code != http.StatusOK || out["memory_space_id"] != "cmp-a" || after["memories"] != 6.0 || after["hot"].(float64) > 2 ||
		after["warm"].(float64)+after["cold"].(float64) < 4 || out["checkpoint_lsn"].(float64) < 6 {
		t.Fatalf("compact: %d %v", code, out)
	}
	if code, out = call(http.MethodPost, "/api/v1/maintenance/compact", "", map[string]any{"memory_space": "cmp-a"}); code != http.StatusOK {
		t.Fatalf("compact again, space in the body: %d %v", code, out)
	}
	_, now := call(http.MethodGet, "/api/v1/spaces/cmp-b", "", nil)
	for _, k := range []string{"hot", "warm", "cold", "wal_bytes", "wal_segments"} {
		if b, a := before["stats"].(map[string]any)[k], now["stats"].(map[string]any)[k]; a != b {
			t.Fatalf("cmp-b's %s changed from %v to %v by cmp-a's compaction", k, b, a)
		}
	}
	for _, tt := range []struct {
		space  string
		body   any
		status int
	}{
		{"cmp-none", nil, http.StatusNotFound},
		{"Bad.Space", nil, http.StatusBadRequest},
		{"cmp-a", `{"memory_space": 5}`, http.StatusBadRequest},
	} {
		if code, out := call(http.MethodPost, "/api/v1/maintenance/compact", tt.space, tt.body); code != tt.status || out["error"] == nil {
			t.Fatalf("compact %s %v: %d %v", tt.space, tt.body, code, out)
		}
	}
	if code, _ := call(http.MethodGet, "/api/v1/spaces/cmp-none", "", nil); code != http.StatusNotFound {
		t.Fatalf("compacting an unknown space created it: %d", code)
	}

	r.killAndRestart()
	for i := range 6 {
		if code, out := call(http.MethodGet, fmt.Sprintf("/api/v1/memories/m%d", i), "cmp-a", nil); code != http.StatusOK {
			t.Fatalf("m%d after SIGKILL: %d %v", i, code, out)
		}
	}
}
