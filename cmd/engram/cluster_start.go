package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/engram-go/engram/cluster"
	"github.com/engram-go/engram/engine"
)

// errNoClusterNode: this build has the cluster's configuration but not its node.
var errNoClusterNode = errors.New("cluster.enabled is set but this build of engram has no cluster node; run a build that includes it, or set cluster.enabled = false")

// startCluster starts the cluster node of this build.
func startCluster(context.Context, cluster.Config, *engine.Engine, *slog.Logger) (clusterNode, error) {
	return nil, errNoClusterNode
}
