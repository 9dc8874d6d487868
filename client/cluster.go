package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// ClusterStatus is one node's view of the cluster (GET /api/v1/cluster).
type ClusterStatus struct {
	NodeID     string             `json:"node_id"` // the node that answered
	Partitions int                `json:"partition_count"`
	Replicas   int                `json:"replicas"`
	Nodes      []ClusterNode      `json:"nodes"`
	Owned      []ClusterPartition `json:"partitions"`
	// Leases counts the partition leases the answering node changed since it started.
	Leases ClusterLeases `json:"leases"`
}

// ClusterLeases counts one node's lease changes since it started.
type ClusterLeases struct {
	Acquired uint64 `json:"acquired"`
	Lost     uint64 `json:"lost"`     // a renewal failed or came too late: the node stopped writing
	Released uint64 `json:"released"` // given up on purpose: placement, drain, stop
}

// ClusterNode is one member: a live node (heartbeating) or one a lease still names.
type ClusterNode struct {
	NodeID     string    `json:"node_id"`
	HTTP       string    `json:"http"`
	GRPC       string    `json:"grpc,omitempty"`
	Alive      bool      `json:"alive"`
	Draining   bool      `json:"draining"`
	Started    time.Time `json:"started"`
	Partitions []int     `json:"partitions"` // those whose lease it holds
}

// ClusterPartition is one partition: its owner ("" when none holds the lease) and how
// far the answering node has applied its stream.
type ClusterPartition struct {
	Partition int    `json:"partition"`
	Owner     string `json:"owner"`
	Local     bool   `json:"local"`
	LastSeq   uint64 `json:"last_sequence"`
	Applied   uint64 `json:"applied_sequence"`
	Lag       uint64 `json:"lag"`             // LastSeq - Applied: stream messages not yet applied there
	Error     string `json:"error,omitempty"` // the last failure to read, catch up or lead it
}

// ClusterStatus returns the answering node's view of the cluster. On a server that is not
// part of a cluster it fails with an error matching ErrNotFound.
func (c *Client) ClusterStatus(ctx context.Context) (*ClusterStatus, error) {
	var out ClusterStatus
	cl := call{method: http.MethodGet, path: "/api/v1/cluster", noSpace: true}
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DrainNode marks a node draining: it is given no partitions and hands over those it owns
// (POST /api/v1/cluster/nodes/{node}/drain). An unknown node matches ErrNotFound.
func (c *Client) DrainNode(ctx context.Context, node string) error {
	cl := call{method: http.MethodPost, path: "/api/v1/cluster/nodes/" + url.PathEscape(node) + "/drain", noSpace: true}
	return c.do(ctx, cl, nil)
}
