package cluster

import (
	"context"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/engram-go/engram/cluster/membership"
)

// ClusterSpaces lists the id of every space of the cluster, sorted: the keys of the
// engram_spaces bucket, which a space enters once when it is created (after its partition's
// stream has the creation) and leaves when it is deleted. It reads the bucket's current
// keys with one watch, without their values.
func (n *Node) ClusterSpaces(ctx context.Context) ([]string, error) {
	keys, err := n.spaces.Keys(ctx)
	switch {
	case err == jetstream.ErrNoKeysFound:
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("cluster: keys of bucket %s: %w", membership.BucketSpaces, err)
	}
	slices.Sort(keys)
	return keys, nil
}
