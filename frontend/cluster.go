package frontend

import "context"

// Owner is the node that serves a memory space in a cluster, as frontends reach it.
type Owner struct {
	NodeID string
	HTTP   string // host:port of its HTTP API
	GRPC   string // host:port of its gRPC API
}

// Router tells a frontend where a space is served. Nil (a single node) means everywhere
// is here. docs/cluster.md describes forwarding.
type Router interface {
	// Route answers local = true when this node leads the space's partition and has
	// applied everything the partition's stream holds, so it may serve reads and writes;
	// otherwise the owner to forward to. An error (no owner yet, the partition moving)
	// is answered 503 with Retry-After.
	Route(space string) (owner Owner, local bool, err error)
}

// SpaceDirectory lists every memory space of a cluster, whichever node serves it: the
// replicated list a space enters once when it is created (docs/cluster.md, "Listing
// spaces").
type SpaceDirectory interface {
	ClusterSpaces(ctx context.Context) ([]string, error)
}
