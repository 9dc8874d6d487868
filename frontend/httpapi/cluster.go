package httpapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/engram-go/engram/frontend"
)

// clusterTimeout bounds what the cluster routes wait for the node.
const clusterTimeout = 10 * time.Second

// notClustered is the answer of the cluster routes on a single node.
func notClustered() *frontend.Error {
	return frontend.Errorf(http.StatusNotFound, frontend.CodeNotFound,
		"this server is not part of a cluster ([cluster] enabled = false); see docs/cluster.md")
}

// handleCluster serves GET /api/v1/cluster: this node's view of the cluster (nodes,
// partitions with their owners, how far this node has applied each). Answered by the
// node asked, never forwarded.
func (s *Server) handleCluster(rq *request) error {
	if s.opts.Cluster == nil {
		return notClustered()
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	st, err := s.opts.Cluster.Status(ctx)
	if err != nil {
		return err
	}
	// Lists are lists, empty or not: clients index them without a nil check.
	if st.Nodes == nil {
		st.Nodes = []frontend.ClusterNode{}
	}
	if st.Owned == nil {
		st.Owned = []frontend.ClusterPartition{}
	}
	return writeJSON(rq.ctx, http.StatusOK, st)
}

// handleDrain serves POST /api/v1/cluster/nodes/{node}/drain: the node takes no new
// partitions and hands over those it owns. With auth on it needs a key with admin scope.
func (s *Server) handleDrain(rq *request) error {
	if s.opts.Auth != nil && (rq.principal == nil || !rq.principal.Admin) {
		return frontend.Errorf(http.StatusForbidden, frontend.CodeForbidden, "draining a node needs a key with admin scope")
	}
	if s.opts.Cluster == nil {
		return notClustered()
	}
	node := rq.param
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if err := s.opts.Cluster.Drain(ctx, node); err != nil {
		return err
	}
	s.log.Info("drain requested over HTTP", "node", node, "remote", rq.ctx.RemoteAddr().String())
	return writeJSON(rq.ctx, http.StatusAccepted, map[string]any{"node_id": node, "draining": true})
}

// writeClusterMetrics adds, in a cluster, the node's forwards, lease changes and the
// lag of every partition's stream behind what this node applied.
func (s *Server) writeClusterMetrics(w io.Writer) {
	if s.opts.Router == nil && s.opts.Cluster == nil {
		return
	}
	f := s.opts.Forwards
	for _, c := range []struct {
		protocol string
		n        *frontend.ForwardCount
	}{{"http", &f.HTTP}, {"grpc", &f.GRPC}} {
		fmt.Fprintf(w, "engram_cluster_forwards_total{protocol=%q,result=\"ok\"} %d\n", c.protocol, c.n.OK.Load())
		fmt.Fprintf(w, "engram_cluster_forwards_total{protocol=%q,result=\"failed\"} %d\n", c.protocol, c.n.Failed.Load())
	}
	if s.opts.Cluster == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	st, err := s.opts.Cluster.Status(ctx)
	if err != nil {
		s.log.Warn("cluster status for /metrics", "err", err)
		return
	}
	for _, l := range []struct {
		change string
		n      uint64
	}{{"acquired", st.Leases.Acquired}, {"lost", st.Leases.Lost}, {"released", st.Leases.Released}} {
		fmt.Fprintf(w, "engram_cluster_lease_changes_total{change=%q} %d\n", l.change, l.n)
	}
	for _, p := range st.Owned {
		label := `{partition="` + strconv.Itoa(p.Partition) + `"}`
		metrics.WriteGaugeUint64(w, "engram_cluster_partition_lag"+label, p.Lag)
		owned := uint64(0)
		if p.Local {
			owned = 1
		}
		metrics.WriteGaugeUint64(w, "engram_cluster_partition_owned"+label, owned)
	}
}
