package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/engram-go/engram/cluster"
	"github.com/engram-go/engram/cluster/membership"
	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

// startCluster joins the cluster of cfg: cluster.Start, adapted to what the frontends
// read of it.
func startCluster(ctx context.Context, cfg cluster.Config, eng *engine.Engine, log *slog.Logger) (clusterNode, error) {
	n, err := cluster.Start(ctx, cfg, eng, log)
	if err != nil {
		return nil, err
	}
	return &clusterGlue{node: n, cfg: cfg}, nil
}

// clusterGlue adapts a cluster.Node to clusterNode.
type clusterGlue struct {
	node *cluster.Node
	cfg  cluster.Config
}

func (g *clusterGlue) Route(space string) (frontend.Owner, bool, error) {
	o, local, err := g.node.Route(space)
	return frontend.Owner{NodeID: o.NodeID, HTTP: o.HTTP, GRPC: o.GRPC}, local, err
}

func (g *clusterGlue) Status(ctx context.Context) (frontend.ClusterStatus, error) {
	st := g.node.Status(ctx)
	out := frontend.ClusterStatus{NodeID: st.NodeID, Partitions: g.cfg.Partitions, Replicas: g.cfg.Replicas,
		LeaseChanges: st.Leases.Acquisitions + st.Leases.Losses + st.Leases.Releases}
	for _, n := range st.Nodes {
		out.Nodes = append(out.Nodes, frontend.ClusterNode{NodeID: n.NodeID, HTTP: n.HTTP, GRPC: n.GRPC, Alive: n.Alive,
			Draining: n.Draining, Started: n.Started, Partitions: n.Partitions})
	}
	for _, p := range st.Partitions {
		out.Owned = append(out.Owned, frontend.ClusterPartition{Partition: p.Partition, Owner: p.Owner, Local: p.Leading,
			LastSeq: p.LastSeq, Applied: p.Applied, Lag: p.Lag})
	}
	return out, nil
}

func (g *clusterGlue) Drain(ctx context.Context, node string) error {
	err := g.node.Drain(ctx, node)
	if errors.Is(err, membership.ErrUnknownNode) {
		return fmt.Errorf("%w: %w", frontend.ErrUnknownNode, err)
	}
	return err
}

func (g *clusterGlue) Close() error { return g.node.Close() }
