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

// startCluster starts this process's cluster node (cluster.Start) and adapts it to what
// the frontends and the cluster routes read.
func startCluster(ctx context.Context, cfg cluster.Config, eng *engine.Engine, log *slog.Logger) (clusterNode, error) {
	n, err := cluster.Start(ctx, cfg, eng, log)
	if err != nil {
		return nil, err
	}
	return &nodeView{n: n, cfg: cfg}, nil
}

// nodeView is a cluster.Node as the frontends see it.
type nodeView struct {
	n   *cluster.Node
	cfg cluster.Config
}

func (v *nodeView) Route(space string) (frontend.Owner, bool, error) {
	o, local, err := v.n.Route(space)
	return frontend.Owner(o), local, err
}

func (v *nodeView) ClusterSpaces(ctx context.Context) ([]string, error) {
	return v.n.ClusterSpaces(ctx)
}

func (v *nodeView) Status(ctx context.Context) (frontend.ClusterStatus, error) {
	st := v.n.Status(ctx)
	out := frontend.ClusterStatus{
		NodeID: st.NodeID, Partitions: v.cfg.Partitions, Replicas: v.cfg.Replicas,
		Nodes: make([]frontend.ClusterNode, len(st.Nodes)),
		Owned: make([]frontend.ClusterPartition, len(st.Partitions)),
		Leases: frontend.ClusterLeases{Acquired: st.Leases.Acquisitions, Lost: st.Leases.Losses,
			Released: st.Leases.Releases},
	}
	for i, n := range st.Nodes {
		out.Nodes[i] = frontend.ClusterNode{NodeID: n.NodeID, HTTP: n.HTTP, GRPC: n.GRPC, Alive: n.Alive,
			Draining: n.Draining, Started: n.Started, Partitions: n.Partitions}
	}
	for i, p := range st.Partitions {
		out.Owned[i] = frontend.ClusterPartition{Partition: p.Partition, Owner: p.Owner, Local: p.Leading,
			LastSeq: p.LastSeq, Applied: p.Applied, Lag: p.Lag, Error: p.Error}
	}
	return out, nil
}

func (v *nodeView) Drain(ctx context.Context, node string) error {
	err := v.n.Drain(ctx, node)
	if errors.Is(err, membership.ErrUnknownNode) {
		return fmt.Errorf("%w: %q (%v)", frontend.ErrUnknownNode, node, err)
	}
	return err
}

func (v *nodeView) Close() error { return v.n.Close() }
