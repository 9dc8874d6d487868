package frontend

import (
	"context"
	"errors"
	"time"
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

// ClusterStatus is one node's view of the cluster (GET /api/v1/cluster).
type ClusterStatus struct {
	NodeID     string             `json:"node_id"`
	Partitions int                `json:"partition_count"`
	Replicas   int                `json:"replicas"`
	Nodes      []ClusterNode      `json:"nodes"`
	Owned      []ClusterPartition `json:"partitions"`
	// LeaseChanges counts the partition leases this node acquired or gave up since it
	// started.
	LeaseChanges uint64 `json:"lease_changes"`
}

// ClusterNode is one member as the nodes bucket holds it.
type ClusterNode struct {
	NodeID   string    `json:"node_id"`
	HTTP     string    `json:"http"`
	GRPC     string    `json:"grpc,omitempty"`
	Draining bool      `json:"draining"`
	Started  time.Time `json:"started"`
}

// ClusterPartition is one partition: its owner ("" when none holds the lease) and how
// far this node has applied its stream.
type ClusterPartition struct {
	Partition int    `json:"partition"`
	Owner     string `json:"owner"`
	Local     bool   `json:"local"`
	LastSeq   uint64 `json:"last_sequence"`
	Applied   uint64 `json:"applied_sequence"`
	Lag       uint64 `json:"lag"` // LastSeq - Applied: stream messages not yet applied here
}
