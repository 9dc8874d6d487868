package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/frontendtest"
)

// fakeCluster is a ClusterView of fixed status that records drains.
type fakeCluster struct {
	mu      sync.Mutex
	drained []string
}

func (f *fakeCluster) Status(context.Context) (frontend.ClusterStatus, error) {
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return frontend.ClusterStatus{NodeID: "a", Partitions: 2, Replicas: 3, Leases: frontend.ClusterLeases{Acquired: 3, Released: 1},
		Nodes: []frontend.ClusterNode{{NodeID: "a", HTTP: "10.0.0.1:7432", Alive: true, Started: t, Partitions: []int{0}},
			{NodeID: "b", HTTP: "10.0.0.2:7432", Alive: true, Started: t, Partitions: []int{1}}},
		Owned: []frontend.ClusterPartition{{Partition: 0, Owner: "a", Local: true, LastSeq: 9, Applied: 9},
			{Partition: 1, Owner: "b", LastSeq: 12, Applied: 5, Lag: 7}},
	}, nil
}

func (f *fakeCluster) Drain(_ context.Context, node string) error {
	if node != "a" && node != "b" {
		return fmt.Errorf("%w: %q", frontend.ErrUnknownNode, node)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drained = append(f.drained, node)
	return nil
}

func TestClusterRoutes(t *testing.T) {
	single := newTestServer(t)
	single.get(t, "/api/v1/cluster").expectError(t, http.StatusNotFound, frontend.CodeNotFound, "not part of a cluster")
	single.post(t, "/api/v1/cluster/nodes/a/drain", "").expectError(t, http.StatusNotFound, frontend.CodeNotFound)
	if m := single.get(t, "/metrics").body; strings.Contains(string(m), "engram_cluster_") {
		t.Fatal("a single node reports cluster metrics")
	}

	fc := &fakeCluster{}
	ts := newTestServer(t, withFrontend(func(o *frontend.Options) {
		o.Cluster, o.Router, o.NodeID = fc, frontendtest.Router{}, "a"
	}))
	st := ts.get(t, "/api/v1/cluster").expectStatus(t, http.StatusOK).object(t)
	if st["node_id"] != "a" || len(st["partitions"].([]any)) != 2 || len(st["nodes"].([]any)) != 2 {
		t.Fatalf("status %v", st)
	}
	ts.post(t, "/api/v1/cluster/nodes/b/drain", "").expectStatus(t, http.StatusAccepted)
	ts.post(t, "/api/v1/cluster/nodes/zz/drain", "").expectError(t, http.StatusNotFound, frontend.CodeNotFound, "zz")
	if len(fc.drained) != 1 || fc.drained[0] != "b" {
		t.Fatalf("drained %v, want [b]", fc.drained)
	}
	m := string(ts.get(t, "/metrics").body)
	for _, want := range []string{
		`engram_cluster_partition_lag{partition="1"} 7`,
		`engram_cluster_partition_owned{partition="0"} 1`,
		`engram_cluster_lease_changes_total{change="acquired"} 3`,
		`engram_cluster_forwards_total{protocol="http",result="ok"} 0`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestDrainNeedsAdminWithAuth(t *testing.T) {
	ts := newTestServer(t, withFrontend(func(o *frontend.Options) {
		o.Cluster = &fakeCluster{}
		o.Auth = frontendtest.Keys{"user": {Spaces: []string{"*"}}, "admin": {Spaces: []string{"*"}, Admin: true}}
	}))
	ts.post(t, "/api/v1/cluster/nodes/a/drain", "", "Authorization", "Bearer user").expectError(t, http.StatusForbidden, frontend.CodeForbidden, "admin")
	ts.post(t, "/api/v1/cluster/nodes/a/drain", "", "Authorization", "Bearer admin").expectStatus(t, http.StatusAccepted)
}
