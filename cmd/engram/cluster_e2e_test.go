package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/internal/enginetest"
)

// launchClusterNode starts the binary as the one node of a cluster (replicas 1, one
// partition, embedded NATS on free loopback ports) and waits until it leads the partition.
func launchClusterNode(t *testing.T, env []string, data string, ports [3]string) *server {
	t.Helper()
	s := launch(t, env, data, ports[0], ports[1],
		"--cluster-enabled", "true", "--cluster-node-id", "n1", "--cluster-replicas", "1", "--cluster-partitions", "1",
		"--cluster-advertise-http", ports[0], "--cluster-advertise-grpc", ports[1],
		"--cluster-nats-listen", ports[2], "--cluster-lease-ttl", "3s")
	hc := &http.Client{Timeout: 10 * time.Second}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		select {
		case <-s.exited:
			t.Fatalf("cluster node exited at start (%v):\n%s", s.waitErr, s.stderr)
		default:
		}
		if status, raw, err := httpJSON(hc, http.MethodGet, "http://"+ports[0]+"/api/v1/cluster", "", nil); err == nil && status == http.StatusOK {
			var st struct {
				Partitions []struct{ Local bool } `json:"partitions"`
			}
			if json.Unmarshal(raw, &st) == nil && len(st.Partitions) == 1 && st.Partitions[0].Local {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node does not lead its partition after 60s:\n%s", s.stderr)
		}
	}
}

// TestSingleNodeClusterEndToEnd runs the binary with [cluster] enabled: writes go through
// the partition stream, Idempotency-Key retries store once, the cluster routes, metrics
// and CLI report the node, a graceful stop releases the lease, and a restart serves what
// was acknowledged.
func TestSingleNodeClusterEndToEnd(t *testing.T) {
	needBinary(t)
	env := e2eEnv(t)
	data := filepath.Join(t.TempDir(), "data")
	ports := [3]string{enginetest.FreeAddr(t), enginetest.FreeAddr(t), enginetest.FreeAddr(t)}
	s := launchClusterNode(t, env, data, ports)
	hc := &http.Client{Timeout: 30 * time.Second}
	base := "http://" + ports[0]

	remember := func(space, key, content string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/memories/remember", strings.NewReader(`{"content":"`+content+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Memory-Space", space)
		req.Header.Set(frontend.IdempotencyHeader, key)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	status, first := remember("alpha", "k-1", "replicated through the stream")
	if status != http.StatusCreated {
		t.Fatalf("remember: %d %v\n%s", status, first, s.stderr)
	}
	id := first["memory_id"].(string)
	if status, again := remember("alpha", "k-1", "replicated through the stream"); status != http.StatusCreated || again["memory_id"] != id {
		t.Fatalf("retry: %d %v, want memory %s", status, again, id)
	}
	if status, _ := remember("alpha", "k-1", "something else"); status != http.StatusConflict {
		t.Fatalf("same key, other content: %d, want 409", status)
	}
	if status, _ := callJSON(t, hc, http.MethodGet, base+"/api/v1/memories/"+id, "beta", nil); status != http.StatusNotFound {
		t.Fatalf("beta sees alpha's memory: %d", status)
	}

	// The listing of spaces reads the cluster's list (the engram_spaces bucket).
	code, out, errOut := engram(t, env, "space", "list", "--addr", ports[0])
	if code != 0 || !strings.Contains(out, "alpha") {
		t.Fatalf("engram space list: exit %d (%s)\n%s", code, errOut, out)
	}

	_, m, err := httpJSON(hc, http.MethodGet, base+"/metrics", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`engram_cluster_partition_lag{partition="0"}`, `engram_cluster_partition_owned{partition="0"} 1`,
		`engram_cluster_lease_changes_total{change="acquired"} 1`, `engram_cluster_forwards_total{protocol="http",result="ok"} 0`} {
		if !strings.Contains(string(m), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	code, out, errOut = engram(t, env, "cluster", "status", "--addr", ports[0])
	if code != 0 || !strings.Contains(out, "as node n1 sees it: 1 node, 1 partition (replicas 1)") || !strings.Contains(out, "│ yes ") {
		t.Fatalf("engram cluster status: exit %d (%s)\n%s", code, errOut, out)
	}
	code, out, _ = engram(t, env, "status", "--addr", ports[0])
	if code != 0 || !strings.Contains(out, "Per-Space Metrics:") || !strings.Contains(out, "as node n1 sees it") {
		t.Fatalf("engram status: exit %d\n%s", code, out)
	}

	if status, _ := callJSON(t, hc, http.MethodPost, base+"/shutdown", "", nil); status != http.StatusOK {
		t.Fatalf("shutdown: %d", status)
	}
	if code := s.wait(60 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, s.stderr)
	}
	if !strings.Contains(s.stderr.String(), "left the cluster") {
		t.Fatalf("no release in the log:\n%s", s.stderr)
	}

	// Restarted on the same data, the node leads again and serves the memory.
	launchClusterNode(t, env, data, ports)
	if status, got := callJSON(t, hc, http.MethodGet, base+"/api/v1/memories/"+id, "alpha", nil); status != http.StatusOK || got["content"] != "replicated through the stream" {
		t.Fatalf("after restart: %d %v", status, got)
	}
}
