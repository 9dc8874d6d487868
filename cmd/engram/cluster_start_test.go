package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/engram-go/engram/cluster"
	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

// fakeNode is a cluster node whose spaces named "remote-*" are served by another node;
// Close records whether the engine was still open, as the release must come first.
type fakeNode struct {
	owner frontend.Owner
	eng   *engine.Engine
	cfg   cluster.Config

	mu              sync.Mutex
	closed          bool
	engineOpenAtEnd bool
}

func (n *fakeNode) Route(space string) (frontend.Owner, bool, error) {
	if strings.HasPrefix(space, "remote-") {
		return n.owner, false, nil
	}
	return frontend.Owner{}, true, nil
}

func (n *fakeNode) Status(context.Context) (frontend.ClusterStatus, error) {
	return frontend.ClusterStatus{NodeID: n.cfg.NodeID, Partitions: n.cfg.Partitions, Replicas: n.cfg.Replicas}, nil
}

func (n *fakeNode) Drain(context.Context, string) error { return frontend.ErrUnknownNode }

// ClusterSpaces lists the spaces this node has: the fake cluster's other node holds none.
func (n *fakeNode) ClusterSpaces(context.Context) ([]string, error) {
	var ids []string
	for _, sp := range n.eng.Spaces() {
		ids = append(ids, sp.ID())
	}
	return ids, nil
}

func (n *fakeNode) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	_, err := n.eng.Space(engine.DefaultSpace)
	n.engineOpenAtEnd = !errors.Is(err, engine.ErrClosed)
	return nil
}

// TestStartJoinsTheCluster runs `engram start` in-process with the cluster enabled by
// environment variables and a fake node: the node gets the configuration, the frontends
// route through it (a remote space is forwarded with the hop marker), and a graceful stop
// closes the node before the engine.
func TestStartJoinsTheCluster(t *testing.T) {
	hop := make(chan string, 1)
	owner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hop <- r.Header.Get(frontend.ForwardedByHeader)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, fakeRemembered)
	}))
	defer owner.Close()

	c := newCLI(t)
	c.env["ENGRAM_CLUSTER_ENABLED"] = "true"
	c.env["ENGRAM_CLUSTER_NODE_ID"] = "n1"
	c.env["ENGRAM_CLUSTER_ADVERTISE_HTTP"] = "127.0.0.1:7432"
	c.env["ENGRAM_CLUSTER_ADVERTISE_GRPC"] = "127.0.0.1:50051"
	c.env["ENGRAM_CLUSTER_PARTITIONS"] = "5"
	c.env["ENGRAM_PID_PATH"] = filepath.Join(t.TempDir(), "engram.pid")
	var node *fakeNode
	started := make(chan struct{})
	var out bytes.Buffer
	errb := &lockedBuffer{b: &bytes.Buffer{}}
	a := &app{stdout: &out, stderr: errb, getenv: func(k string) string { return c.env[k] },
		startCluster: func(_ context.Context, cfg cluster.Config, eng *engine.Engine, _ *slog.Logger) (clusterNode, error) {
			node = &fakeNode{owner: frontend.Owner{NodeID: "n2", HTTP: strings.TrimPrefix(owner.URL, "http://")}, eng: eng, cfg: cfg}
			close(started)
			return node, nil
		}}
	root := a.rootCommand()
	root.SetArgs([]string{"--config", c.cfgFile, "start", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--mcp", "127.0.0.1:0",
		"--cluster-replicas", "1"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(context.Background()) }()

	var port int
	for deadline := time.Now().Add(30 * time.Second); port == 0; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("start ended: %v\n%s", err, errb.String())
		default:
		}
		if p, err := readPIDFile(c.env["ENGRAM_PID_PATH"]); err == nil {
			port = p.Port
		}
		if time.Now().After(deadline) {
			t.Fatalf("no PID file:\n%s", errb.String())
		}
	}
	<-started
	if node.cfg.NodeID != "n1" || node.cfg.Partitions != 5 || node.cfg.Replicas != 1 || node.cfg.NATS.StoreDir != filepath.Join(c.root, "nats") {
		t.Fatalf("node configuration %+v", node.cfg)
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	resp, err := http.Post(base+"/api/v1/memories/remember?space=remote-a", "application/json", strings.NewReader(`{"content":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"mem_1"`) || <-hop != "n1" {
		t.Fatalf("forwarded remember: %d %s", resp.StatusCode, body)
	}
	if resp, err := http.Get(base + "/api/v1/cluster"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("cluster status: %v %v", resp, err)
	}

	if resp, err := http.Post(base+"/shutdown", "application/json", nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("shutdown: %v %v", resp, err)
	}
	if err := <-done; err != nil {
		t.Fatalf("start: %v\n%s", err, errb.String())
	}
	if !node.closed || !node.engineOpenAtEnd {
		t.Fatalf("node closed %v, engine open when it closed %v: the node must be closed before the engine", node.closed, node.engineOpenAtEnd)
	}
	if !strings.Contains(errb.String(), "left the cluster") {
		t.Fatalf("log lacks the release:\n%s", errb.String())
	}
}

// lockedBuffer is a log destination safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
