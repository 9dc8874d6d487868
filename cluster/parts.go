package cluster

import (
	"log/slog"

	"github.com/engram-go/engram/cluster/membership"
	"github.com/engram-go/engram/cluster/natsnode"
)

// NATSOptions are the options of the node's NATS connection (cluster/natsnode) from the
// configuration. c.NATS.StoreDir must already be resolved (its default lies under the data
// root, which the server's configuration knows).
func (c Config) NATSOptions(log *slog.Logger) natsnode.Options {
	return natsnode.Options{
		Name:          c.NodeID,
		URL:           c.NATS.URL,
		Listen:        c.NATS.Listen,
		ClusterListen: c.NATS.ClusterListen,
		Routes:        c.NATS.Routes,
		StoreDir:      c.NATS.StoreDir,
		SyncAlways:    c.NATS.Sync == SyncAlways,
		Logger:        log,
	}
}

// MemberConfig is the node's part in partition ownership (cluster/membership).
func (c Config) MemberConfig() membership.Config {
	return membership.Config{
		NodeID:     c.NodeID,
		HTTP:       c.AdvertiseHTTP,
		GRPC:       c.AdvertiseGRPC,
		Partitions: c.Partitions,
		Replicas:   c.Replicas,
		LeaseTTL:   c.LeaseTTL,
	}
}
