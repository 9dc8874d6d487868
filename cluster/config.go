package cluster

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// ErrInvalidConfig wraps every configuration error; the message names the key.
var ErrInvalidConfig = errors.New("cluster: invalid configuration")

// Config is the [cluster] section of the server's configuration (docs/configuration.md).
// The zero value with Enabled false is a single node: no NATS, no change.
type Config struct {
	Enabled       bool
	NodeID        string        // unique in the cluster, [a-z0-9-], 1–32 characters
	AdvertiseHTTP string        // host:port other nodes forward HTTP requests to
	AdvertiseGRPC string        // host:port other nodes forward gRPC calls to
	Partitions    int           // partition streams; fixed when the cluster is created
	Replicas      int           // JetStream replicas of every stream and bucket: 1, 3 or 5
	LeaseTTL      time.Duration // a partition lease not renewed within this expires
	NATS          NATSConfig
}

// NATSConfig is the [cluster.nats] section.
type NATSConfig struct {
	URL           string   // an external NATS cluster; empty embeds a server in the node
	Listen        string   // embedded server's client listener
	ClusterListen string   // embedded server's route listener; unused without Routes (a lone server)
	Routes        []string // nats-route://host:port of the other nodes' route listeners
	StoreDir      string   // JetStream storage; empty is <data_root>/nats
	Sync          string   // "always": a PubAck means on disk on a quorum; "interval": in memory on a quorum
}

// Defaults.
const (
	DefaultPartitions    = 3
	DefaultReplicas      = 3
	DefaultLeaseTTL      = 10 * time.Second
	DefaultNATSListen    = "127.0.0.1:4222"
	DefaultClusterListen = "127.0.0.1:6222"
	SyncAlways           = "always"
	SyncInterval         = "interval"
)

var nodeIDPattern = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// SetDefaults fills what c leaves unset.
func (c *Config) SetDefaults() {
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.Replicas == 0 {
		c.Replicas = DefaultReplicas
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.NATS.URL == "" {
		if c.NATS.Listen == "" {
			c.NATS.Listen = DefaultNATSListen
		}
		// JetStream clusters only over configured routes: without any the node runs a
		// lone server (a one-node cluster) and a route listener would serve nobody.
		if c.NATS.ClusterListen == "" && len(c.NATS.Routes) > 0 {
			c.NATS.ClusterListen = DefaultClusterListen
		}
	}
	if c.NATS.Sync == "" {
		c.NATS.Sync = SyncAlways
	}
}

// Validate reports the first invalid key of an enabled configuration.
func (c *Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	switch {
	case !nodeIDPattern.MatchString(c.NodeID):
		return fmt.Errorf("%w: cluster.node_id %q: 1-32 characters of a-z, 0-9 and '-'", ErrInvalidConfig, c.NodeID)
	case c.AdvertiseHTTP == "":
		return fmt.Errorf("%w: cluster.advertise_http is empty", ErrInvalidConfig)
	case c.Partitions < 1 || c.Partitions > 1024:
		return fmt.Errorf("%w: cluster.partitions %d: between 1 and 1024", ErrInvalidConfig, c.Partitions)
	case c.Replicas != 1 && c.Replicas != 3 && c.Replicas != 5:
		return fmt.Errorf("%w: cluster.replicas %d: 1, 3 or 5", ErrInvalidConfig, c.Replicas)
	case c.LeaseTTL < time.Second:
		return fmt.Errorf("%w: cluster.lease_ttl %v: at least 1s", ErrInvalidConfig, c.LeaseTTL)
	case c.NATS.URL == "" && len(c.NATS.Routes) == 0 && c.Replicas > 1:
		return fmt.Errorf("%w: cluster.replicas %d needs as many NATS servers: list every node's route listener in cluster.nats.routes (or set cluster.replicas = 1 for a one-node cluster)", ErrInvalidConfig, c.Replicas)
	case c.NATS.Sync != SyncAlways && c.NATS.Sync != SyncInterval:
		return fmt.Errorf("%w: cluster.nats.sync %q: \"always\" or \"interval\"", ErrInvalidConfig, c.NATS.Sync)
	}
	return nil
}
