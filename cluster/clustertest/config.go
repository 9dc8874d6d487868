package clustertest

import (
	"fmt"
	"strings"
	"time"
)

// Settings are what every node of a Cluster is configured with.
type Settings struct {
	Partitions int           // [cluster] partitions; 0 = 3
	LeaseTTL   time.Duration // [cluster] lease_ttl; 0 = 3s, short so that failover is quick in tests
	Sync       string        // [cluster.nats] sync; "" = "always"
	Dimension  int           // [embedding] dimension; 0 = 64, to keep the hash embedder cheap
	LogLevel   string        // [log] level; "" = "info" ("debug" logs placement and catch-up steps)
}

func (s *Settings) fill() {
	if s.Partitions == 0 {
		s.Partitions = 3
	}
	if s.LeaseTTL == 0 {
		s.LeaseTTL = 3 * time.Second
	}
	if s.Sync == "" {
		s.Sync = "always"
	}
	if s.Dimension == 0 {
		s.Dimension = 64
	}
	if s.LogLevel == "" {
		s.LogLevel = "info"
	}
}

// configTOML is the configuration file of n, in the keys of docs/configuration.md. A
// node without cluster (peers nil) is a plain single node: the comparison run.
func configTOML(n *Node, s Settings, peers []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[server]\nhttp_listen = %q\ngrpc_listen = %q\n\n", n.HTTP, n.GRPC)
	fmt.Fprintf(&b, "[mcp]\nlisten = %q\n\n", n.MCP)
	fmt.Fprintf(&b, "[persistence]\ndata_root = %q\nwal_sync = \"always\"\n\n", n.DataRoot)
	fmt.Fprintf(&b, "[spaces]\nauto_create = true\n\n")
	fmt.Fprintf(&b, "[embedding]\ndimension = %d\nprovider = \"hash\"\n\n", s.Dimension)
	// Consolidation writes on its own schedule; the oracle judges the load's writes only.
	fmt.Fprintf(&b, "[consolidation]\nenabled = false\n\n")
	fmt.Fprintf(&b, "[log]\nlevel = %q\n", s.LogLevel)
	if peers == nil {
		return b.String()
	}
	fmt.Fprintf(&b, "\n[cluster]\nenabled = true\nnode_id = %q\nadvertise_http = %q\nadvertise_grpc = %q\n", n.ID, n.HTTP, n.GRPC)
	fmt.Fprintf(&b, "partitions = %d\nreplicas = 3\nlease_ttl = %q\n\n", s.Partitions, s.LeaseTTL.String())
	quoted := make([]string, len(peers))
	for i, p := range peers {
		quoted[i] = fmt.Sprintf("%q", "nats-route://"+p)
	}
	fmt.Fprintf(&b, "[cluster.nats]\nlisten = %q\ncluster_listen = %q\nroutes = [%s]\nstore_dir = %q\nsync = %q\n",
		n.NATS, n.Route, strings.Join(quoted, ", "), n.StoreDir(), s.Sync)
	return b.String()
}
