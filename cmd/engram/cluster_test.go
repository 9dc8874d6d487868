package main

import (
	"net/http"
	"strings"
	"testing"
)

const fakeCluster = `{"node_id":"n1","partition_count":3,"replicas":3,"leases":{"acquired":3,"lost":0,"released":1},
 "nodes":[{"node_id":"n1","http":"10.0.0.1:7432","grpc":"10.0.0.1:50051","alive":true,"draining":false,"started":"2026-01-02T03:04:05Z","partitions":[0,2]},
          {"node_id":"n2","http":"10.0.0.2:7432","alive":true,"draining":true,"started":"2026-01-02T03:04:05Z","partitions":[]},
          {"node_id":"n3","http":"","alive":false,"draining":false,"started":"0001-01-01T00:00:00Z","partitions":[1]}],
 "partitions":[{"partition":0,"owner":"n1","local":true,"last_sequence":120,"applied_sequence":120,"lag":0},
               {"partition":1,"owner":"n3","local":false,"last_sequence":80,"applied_sequence":75,"lag":5,"error":"catching up: stream read timed out"},
               {"partition":2,"owner":"","local":false,"last_sequence":9,"applied_sequence":9,"lag":0}]}`

func TestClusterStatusCommand(t *testing.T) {
	srv := newFakeServer(t, map[string]fakeAnswer{"GET /api/v1/cluster": {200, fakeCluster}})
	code, out, errOut := newCLI(t).run("cluster", "status", "--addr", srv.addr())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	checkGolden(t, "cluster_status.golden", []byte(out))
	for _, table := range strings.Split(out, "\n\n") {
		checkBoxAligned(t, table)
	}
	for _, want := range []string{"as node n1 sees it: 3 nodes, 3 partitions (replicas 3); leases since start: 3 acquired, 0 lost, 1 released", "catching up: stream read timed out", "draining", "gone", "(none)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	_, js, _ := newCLI(t).run("cluster", "status", "--json", "--addr", srv.addr())
	if !strings.Contains(js, `"applied_sequence": 75`) {
		t.Fatalf("--json output:\n%s", js)
	}
}

func TestClusterCommandsOnASingleNode(t *testing.T) {
	srv := newFakeServer(t, map[string]fakeAnswer{
		"GET /api/v1/system/health": {200, healthyBody},
	})
	code, _, errOut := newCLI(t).run("cluster", "status", "--addr", srv.addr())
	if code != 1 || !strings.Contains(errOut, "not part of a cluster") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	// engram status of a single node shows no cluster section.
	code, out, _ := newCLI(t).run("status", "--addr", srv.addr())
	if code != 0 || strings.Contains(out, "Cluster") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
}

func TestStatusShowsTheCluster(t *testing.T) {
	srv := newFakeServer(t, map[string]fakeAnswer{
		"GET /api/v1/system/health": {200, healthyBody},
		"GET /api/v1/cluster":       {200, fakeCluster},
	})
	code, out, errOut := newCLI(t).run("status", "--addr", srv.addr())
	if code != 0 || !strings.Contains(out, "Per-Space Metrics:") || !strings.Contains(out, "as node n1 sees it") {
		t.Fatalf("exit %d (%s), output:\n%s", code, errOut, out)
	}
}

func TestClusterDrainCommand(t *testing.T) {
	srv := newFakeServer(t, map[string]fakeAnswer{
		"POST /api/v1/cluster/nodes/n2/drain": {http.StatusAccepted, `{"node_id":"n2","draining":true}`},
	})
	code, out, errOut := newCLI(t).run("cluster", "drain", "n2", "--addr", srv.addr())
	if code != 0 || !strings.Contains(out, "Node n2 is draining") {
		t.Fatalf("exit %d (%s): %s", code, errOut, out)
	}
	if r := srv.last(t); r.method != http.MethodPost || r.path != "/api/v1/cluster/nodes/n2/drain" || r.space != "" {
		t.Fatalf("request %+v", r)
	}
	code, _, errOut = newCLI(t).run("cluster", "drain", "n9", "--addr", srv.addr())
	if code != 1 || !strings.Contains(errOut, `"n9"`) {
		t.Fatalf("unknown node: exit %d, stderr %q", code, errOut)
	}
}

// lastTo is the last request to path (`engram status` also asks for the cluster).
func (f *fakeServer) lastTo(t *testing.T, path string) recorded {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if f.requests[i].path == path {
			return f.requests[i]
		}
	}
	t.Fatalf("no request to %s reached the server", path)
	return recorded{}
}

func TestRememberSendsTheIdempotencyKey(t *testing.T) {
	srv := newFakeServer(t, map[string]fakeAnswer{"POST /api/v1/memories/remember": {http.StatusCreated, fakeRemembered}})
	code, out, errOut := newCLI(t).run("remember", "hello", "--idempotency-key", "op-7", "--addr", srv.addr())
	if code != 0 || !strings.Contains(out, "Remembered mem_1") {
		t.Fatalf("exit %d (%s): %s", code, errOut, out)
	}
	if r := srv.last(t); r.idempotencyKey != "op-7" {
		t.Fatalf("Idempotency-Key sent %q, want op-7", r.idempotencyKey)
	}
}
