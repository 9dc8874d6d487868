package frontend

import (
	"context"
	"errors"

	"github.com/engram-go/engram/client"
)

// ErrUnknownNode: a drain named a node the cluster does not know.
var ErrUnknownNode = errors.New("frontend: no such cluster node")

// ClusterView is what the cluster routes, `engram status` and /metrics read of the node
// this server runs in (nil on a single node). The cluster package's node is adapted to it
// where the server starts.
type ClusterView interface {
	Status(ctx context.Context) (ClusterStatus, error)
	// Drain moves every partition off node and keeps new ones from being placed there;
	// ErrUnknownNode when the cluster does not know it.
	Drain(ctx context.Context, node string) error
}

// The cluster's status is the wire shape of the Go client (GET /api/v1/cluster).
type (
	ClusterStatus    = client.ClusterStatus
	ClusterNode      = client.ClusterNode
	ClusterPartition = client.ClusterPartition
	ClusterLeases    = client.ClusterLeases
)
