package main

import (
	"context"
	"log/slog"

	"github.com/engram-go/engram/cluster"
	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

// clusterNode is what `engram start` needs of the node it runs in a cluster: where each
// space is served (the frontends' Router), every space of the cluster (their space
// listings' Directory), the status and drain of the cluster routes,
// and Close, which releases this node's partitions before the engine closes.
type clusterNode interface {
	frontend.Router
	frontend.ClusterView
	frontend.SpaceDirectory
	Close() error
}

// clusterStarter joins the cluster of cfg with the opened engine. It is app.startCluster,
// startCluster in cluster_start.go unless a test replaces it.
type clusterStarter func(ctx context.Context, cfg cluster.Config, eng *engine.Engine, log *slog.Logger) (clusterNode, error)
