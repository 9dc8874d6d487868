package main

import (
	"bufio"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"
)

// sseEvent is one Server-Sent Event frame.
type sseEvent struct {
	Type string
	Data map[string]any
}

// firstEvents opens an SSE stream from the start of the space's buffer and returns its
// first n events (comments skipped).
func firstEvents(t *testing.T, hc *http.Client, url, space string, n int) []sseEvent {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Memory-Space", space)
	req.Header.Set("Last-Event-ID", "0")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	var out []sseEvent
	var ev sseEvent
	sc := bufio.NewScanner(resp.Body)
	for len(out) < n && sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			ev.Type = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.Data); err != nil {
				t.Fatalf("data of %s: %v", url, err)
			}
		case line == "" && ev.Type != "":
			out = append(out, ev)
			ev = sseEvent{}
		}
	}
	if len(out) < n {
		t.Fatalf("%s: %d events, want %d (%v)", url, len(out), n, sc.Err())
	}
	return out
}

// TestE2EMonitoringStreams reads the consolidation and monitoring streams through the
// binary: each carries only its event types, only of the chosen space, and refuses
// event types that are not its own.
func TestE2EMonitoringStreams(t *testing.T) {
	r := startE2E(t)
	call, hc, base := r.call, r.hc, r.url("")
	rng := rand.New(rand.NewPCG(2, 3))
	old := time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339)
	for _, space := range []string{"st-a", "st-b"} {
		a := e2eVector(rng, nil, 1)
		for i, c := range []string{"espresso at the harbour cafe", "a walk on the pier", "boats in the evening"} {
			m := map[string]any{"id": space + "-" + string(rune('0'+i)), "content": c, "embedding": e2eVector(rng, a, 0.05), "timestamp": old, "auto_link": true}
			if code, out := call(http.MethodPost, "/api/v1/memories/remember", space, m); code != http.StatusCreated {
				t.Fatalf("remember: %d %v", code, out)
			}
		}
		if code, out := call(http.MethodPost, "/api/v1/consolidations", space, nil); code != http.StatusOK || len(out["formed"].([]any)) != 1 {
			t.Fatalf("consolidate %s: %d %v", space, code, out)
		}
	}
	// "espresso" matches st-a-0 by its words only; the others are reached over its edges.
	if code, out := call(http.MethodGet, "/api/v1/memories/recall?query=espresso&mode=hybrid&threshold=0", "st-a", nil); code != http.StatusOK {
		t.Fatalf("recall: %d %v", code, out)
	}

	for _, tt := range []struct {
		path, space string
		n           int
		types       []string
		firstID     string
	}{
		{"/api/v1/stream/consolidation", "st-a", 1, []string{"consolidation"}, ""},
		{"/api/v1/stream/consolidation", "st-b", 1, []string{"consolidation"}, ""},
		{"/api/v1/monitoring/events", "st-a", 3, []string{"storage", "formation"}, "st-a-0"},
		{"/api/v1/monitoring/events", "st-b", 3, []string{"storage", "formation"}, "st-b-0"},
		{"/api/v1/monitoring/activations", "st-a", 2, []string{"retrieval", "activation"}, ""},
		{"/api/v1/monitoring/causality", "st-a", 1, []string{"activation"}, ""},
	} {
		evs := firstEvents(t, hc, base+tt.path, tt.space, tt.n)
		for i, ev := range evs {
			ok := false
			for _, ty := range tt.types {
				ok = ok || ev.Type == ty
			}
			if _, hasID := ev.Data["memory_id"].(string); !ok || !hasID || ev.Data["memory_space_id"] != tt.space {
				t.Fatalf("%s in %s: event %d = %+v", tt.path, tt.space, i, ev)
			}
			if id, _ := ev.Data["memory_id"].(string); strings.HasPrefix(id, "st-") && !strings.HasPrefix(id, tt.space) {
				t.Fatalf("%s in %s shows %s", tt.path, tt.space, id)
			}
		}
		if tt.firstID != "" && evs[0].Data["memory_id"] != tt.firstID {
			t.Fatalf("%s in %s starts with %v", tt.path, tt.space, evs[0])
		}
		if tt.path == "/api/v1/monitoring/causality" {
			if path, _ := evs[0].Data["path"].([]any); len(path) < 2 || path[0] != "st-a-0" {
				t.Fatalf("causality event without its chain: %+v", evs[0])
			}
		}
	}
	for _, q := range []string{"/api/v1/stream/consolidation?event_types=storage", "/api/v1/monitoring/causality?event_types=retrieval", "/api/v1/monitoring/events?min_importance=2"} {
		if code, out := call(http.MethodGet, q, "st-a", nil); code != http.StatusBadRequest || out["error"] == nil {
			t.Fatalf("%s: %d %v", q, code, out)
		}
	}
}
