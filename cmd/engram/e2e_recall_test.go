package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2ERecallChainAcrossTiers drives the real binary with the chain of
// docs/spreading-activation.md: a, b, c with cos(a,b) = cos(b,c) = 0.75 and cos(a,c) =
// 0.125, linked with auto_link at link_threshold 0.7, in a space whose tiers are tiny.
// Fillers and recalls that keep a (and for a while b) active push c to the cold tier and
// b to the warm one; then the server is killed (SIGKILL) and restarted. After the restart
// c and b are still cold and warm, and a recall by a's embedding at threshold 0.2 returns
// c in associated with retrieval_path "spreading: b -> c" in hybrid and spreading mode
// and never in similarity mode; the associations route lists b's edges; another space
// sees none of it; and `engram recall --trace` prints the two-hop path a -> b -> c.
func TestE2ERecallChainAcrossTiers(t *testing.T) {
	needBinary(t)
	env := e2eEnv(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfgFile := filepath.Join(dir, "config.toml")
	const dim = 64
	cfg := fmt.Sprintf("[embedding]\ndimension = %d\n\n[consolidation]\nenabled = false\n\n[spaces.chain]\nhot_capacity = 20\nwarm_capacity = 30\n", dim)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, env, data, "--config", cfgFile)
	hc := &http.Client{Timeout: 30 * time.Second}
	call := func(method, path, space string, body any) (int, map[string]any) {
		t.Helper()
		for {
			status, out := callJSON(t, hc, method, "http://"+srv.http+path, space, body)
			if status != http.StatusServiceUnavailable { // the hot tier waits for a checkpoint
				return status, out
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	th := math.Acos(0.75)
	vec := func(xs ...float64) []float64 { v := make([]float64, dim); copy(v, xs); return v }
	chain := map[string][]float64{"a": vec(1), "b": vec(math.Cos(th), math.Sin(th)), "c": vec(math.Cos(2*th), math.Sin(2*th))}
	words := map[string]string{"a": "alpha lighthouse", "b": "bravo harbour", "c": "charlie ferry"}
	now := time.Now().UTC()
	at := now.Add(-time.Hour)
	for _, id := range []string{"c", "b", "a"} {
		at = at.Add(15 * time.Minute) // beyond the temporal window: only similarity edges
		status, out := call(http.MethodPost, "/api/v1/memories/remember", "chain", map[string]any{
			"id": id, "content": words[id], "embedding": chain[id], "confidence": 0.9,
			"timestamp": at.Format(time.RFC3339), "auto_link": true, "link_threshold": 0.7})
		if status != http.StatusCreated {
			t.Fatalf("remember %s: %d %v", id, status, out)
		}
	}
	rng := rand.New(rand.NewPCG(9, 9))
	old, fillers := now.Add(-72*time.Hour), 0
	filler := func() {
		v := make([]float64, dim)
		for i := 3; i < dim; i++ { // orthogonal to the chain: no edge, no match
			v[i] = rng.NormFloat64()
		}
		old = old.Add(15 * time.Minute)
		fillers++
		if status, out := call(http.MethodPost, "/api/v1/memories/remember", "chain", map[string]any{
			"id": fmt.Sprintf("f%03d", fillers), "content": "filler", "embedding": v, "timestamp": old.Format(time.RFC3339)}); status != http.StatusCreated {
			t.Fatalf("filler: %d %v", status, out)
		}
	}
	touch := func(threshold float64) { // a recall by similarity keeps a (and b at 0.5) active
		if status, out := call(http.MethodPost, "/api/v1/memories/recall", "chain", map[string]any{
			"embedding": chain["a"], "mode": "similarity", "threshold": threshold}); status != http.StatusOK {
			t.Fatalf("touch: %d %v", status, out)
		}
	}
	tier := func(id string) string {
		status, out := call(http.MethodGet, "/api/v1/memories/"+id, "chain", nil)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %v", id, status, out)
		}
		return fmt.Sprint(out["tier"])
	}
	for i := 0; tier("c") != "cold"; i++ {
		if i == 600 {
			t.Fatal("c never reached the cold tier")
		}
		filler()
		if i%3 == 2 {
			touch(0.5)
		}
	}
	for i := 0; tier("b") != "warm"; i++ {
		if i == 300 {
			t.Fatal("b never reached the warm tier")
		}
		filler()
		if i%3 == 2 {
			touch(0.9)
		}
	}
	t.Logf("c cold and b warm after %d fillers", fillers)

	srv.cmd.Process.Kill()
	srv.wait(30 * time.Second)
	srv = startServer(t, env, data, "--config", cfgFile)
	for id, want := range map[string]string{"a": "hot", "b": "warm", "c": "cold"} {
		if got := tier(id); got != want {
			t.Fatalf("after restart %s is %s, want %s", id, got, want)
		}
	}

	recall := func(space, mode string, threshold float64) (map[string]string, map[string]string) {
		t.Helper()
		status, out := call(http.MethodPost, "/api/v1/memories/recall", space, map[string]any{
			"embedding": chain["a"], "mode": mode, "threshold": threshold, "trace_activation": true})
		if status != http.StatusOK {
			t.Fatalf("recall %s: %d %v", mode, status, out)
		}
		got, traces := map[string]string{}, map[string]string{}
		mem, _ := out["memories"].(map[string]any)
		for _, g := range []string{"vivid", "associated", "reconstructed"} {
			list, _ := mem[g].([]any)
			for _, r := range list {
				r, _ := r.(map[string]any)
				got[fmt.Sprint(r["id"])] = g + " " + fmt.Sprint(r["retrieval_path"])
			}
		}
		list, _ := out["traces"].([]any)
		for _, tr := range list {
			tr, _ := tr.(map[string]any)
			traces[fmt.Sprint(tr["memory_id"])] = fmt.Sprint(tr["activation_path"])
		}
		return got, traces
	}
	spread := map[string]string{"a": "vivid direct", "b": "vivid direct", "c": "associated spreading: b -> c"}
	tests := []struct {
		mode string
		want map[string]string
	}{
		{"hybrid", spread}, // the first recall after the restart: b warm, c cold
		{"spreading", spread},
		{"similarity", map[string]string{"a": "vivid direct", "b": "vivid direct"}},
	}
	for _, tt := range tests {
		got, traces := recall("chain", tt.mode, 0.2)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Fatalf("%s recall at 0.2:\n got  %v\n want %v", tt.mode, got, tt.want)
		}
		if _, ok := tt.want["c"]; ok && traces["c"] != "[b c]" {
			t.Fatalf("%s: trace of c %s, want [b c]", tt.mode, traces["c"])
		}
	}

	status, out := call(http.MethodGet, "/api/v1/memories/b/associations", "chain", nil)
	edges, _ := out["associations"].([]any)
	targets := map[string]string{}
	for _, e := range edges {
		e, _ := e.(map[string]any)
		targets[fmt.Sprint(e["target_memory_id"])] = fmt.Sprintf("%v %.2f", e["kind"], e["weight"])
	}
	if status != http.StatusOK || fmt.Sprint(targets) != "map[a:similarity 0.75 c:similarity 0.75]" {
		t.Fatalf("associations of b: %d %v", status, out)
	}

	// Another space: no recall, no associations, no trace of the chain's ids.
	if got, _ := recall("other-space", "hybrid", 0); len(got) != 0 {
		t.Fatalf("other space recalls %v", got)
	}
	if status, out := call(http.MethodGet, "/api/v1/memories/b/associations", "other-space", nil); status != http.StatusNotFound {
		t.Fatalf("associations of b from another space: %d %v", status, out)
	}

	// The command line: a text query matches a alone (lexically); b and c come by spreading.
	out2 := mustEngram(t, env, "recall", "lighthouse", "--space", "chain", "--trace", "--threshold", "0.1", "--data-root", data)
	for _, want := range []string{"spreading: a -> b ", "spreading: a -> b -> c", "Retrieval path"} {
		if !strings.Contains(out2, want) {
			t.Fatalf("engram recall --trace lacks %q:\n%s", want, out2)
		}
	}
}
