package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestE2ESpreadingAndPrometheusRoutes checks the spreading configuration, the spreading
// health (figures summed, no space named) and the Prometheus path through the binary.
func TestE2ESpreadingAndPrometheusRoutes(t *testing.T) {
	r := startE2E(t)
	hc, base := r.hc, r.url("")
	for _, c := range []string{"harbour lights at dusk", "harbour lights at night"} {
		if code, out := callJSON(t, hc, http.MethodPost, base+"/api/v1/memories/remember", "secret-space", map[string]any{"content": c, "auto_link": true}); code != http.StatusCreated {
			t.Fatalf("remember: %d %v", code, out)
		}
	}

	code, out := callJSON(t, hc, http.MethodGet, base+"/api/v1/system/spreading/config", "", nil)
	hybrid, _ := out["hybrid_recall"].(map[string]any)
	spreading, _ := out["spreading_recall"].(map[string]any)
	query, _ := out["query_spread"].(map[string]any)
	if code != http.StatusOK || hybrid["max_hops"] != 3.0 || hybrid["decay"] != 0.5 || hybrid["threshold"] != 0.05 || hybrid["raise_seeds"] != true ||
		spreading["max_hops"] != 4.0 || query["max_hops"] != 3.0 || query["raise_seeds"] != false || out["max_spread_hops"] != 8.0 {
		t.Fatalf("spreading config: %d %v", code, out)
	}

	status, raw, err := httpJSON(hc, http.MethodGet, base+"/health/spreading", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK || !strings.Contains(string(raw), `"status":"healthy"`) || strings.Contains(string(raw), "secret-space") {
		t.Fatalf("health/spreading: %d %s", status, raw)
	}
	code, out = callJSON(t, hc, http.MethodGet, base+"/health/spreading", "", nil)
	if out["open_spaces"].(float64) < 1 || out["edges"].(float64) < 1 {
		t.Fatalf("health/spreading figures: %d %v", code, out)
	}

	resp, err := hc.Get(base + "/metrics/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || !strings.Contains(string(body), "engram_registry_lock_wait_seconds") {
		t.Fatalf("metrics/prometheus: %d %s\n%.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if code, _ := callJSON(t, hc, http.MethodPost, base+"/api/v1/system/spreading/config", "", map[string]any{}); code != http.StatusMethodNotAllowed {
		t.Fatalf("POST spreading/config: %d", code)
	}
}
