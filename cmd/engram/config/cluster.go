package config

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/engram-go/engram/cluster"
)

// Cluster is the [cluster] section (docs/cluster.md). Off by default: a single node
// starts no NATS server and binds nothing more.
type Cluster struct {
	Enabled       bool        `toml:"enabled"`
	NodeID        string      `toml:"node_id"`
	AdvertiseHTTP string      `toml:"advertise_http"` // default: server.http_listen
	AdvertiseGRPC string      `toml:"advertise_grpc"` // default: server.grpc_listen
	Partitions    int         `toml:"partitions"`
	Replicas      int         `toml:"replicas"`
	LeaseTTL      Duration    `toml:"lease_ttl"`
	NATS          ClusterNATS `toml:"nats"`
}

// ClusterNATS is the [cluster.nats] section: an embedded NATS server, or an external
// cluster by url.
type ClusterNATS struct {
	URL           string   `toml:"url"`
	Listen        string   `toml:"listen"`
	ClusterListen string   `toml:"cluster_listen"`
	Routes        []string `toml:"routes"`
	StoreDir      string   `toml:"store_dir"` // default <data_root>/nats; relative to data_root
	Sync          string   `toml:"sync"`
}

func defaultCluster() Cluster {
	var c cluster.Config
	c.SetDefaults()
	return Cluster{
		Partitions: c.Partitions,
		Replicas:   c.Replicas,
		LeaseTTL:   Duration(c.LeaseTTL),
		NATS:       ClusterNATS{Listen: c.NATS.Listen, ClusterListen: c.NATS.ClusterListen, Sync: c.NATS.Sync},
	}
}

// ClusterKeys are the dotted keys of [cluster] and [cluster.nats], in file order. Each
// has an environment variable (ClusterEnv) and a flag of `engram start` (ClusterFlag).
func ClusterKeys() []string {
	return []string{"cluster.enabled", "cluster.node_id", "cluster.advertise_http", "cluster.advertise_grpc",
		"cluster.partitions", "cluster.replicas", "cluster.lease_ttl", "cluster.nats.url", "cluster.nats.listen",
		"cluster.nats.cluster_listen", "cluster.nats.routes", "cluster.nats.store_dir", "cluster.nats.sync"}
}

// ClusterEnv is the environment variable of a cluster key: cluster.nats.store_dir is
// ENGRAM_CLUSTER_NATS_STORE_DIR.
func ClusterEnv(key string) string {
	return "ENGRAM_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// ClusterFlag is the flag of `engram start` for a cluster key, without dashes:
// cluster.nats.store_dir is cluster-nats-store-dir.
func ClusterFlag(key string) string {
	return strings.NewReplacer(".", "-", "_", "-").Replace(key)
}

// setCluster sets one cluster key from a flag or environment value. routes is a comma
// separated list there.
func (c *Cluster) set(key, v string) error {
	atoi := func(dst *int) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("must be a whole number, got %q", v)
		}
		*dst = n
		return nil
	}
	switch key {
	case "cluster.enabled":
		on, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("must be true or false, got %q", v)
		}
		c.Enabled = on
	case "cluster.node_id":
		c.NodeID = v
	case "cluster.advertise_http":
		c.AdvertiseHTTP = v
	case "cluster.advertise_grpc":
		c.AdvertiseGRPC = v
	case "cluster.partitions":
		return atoi(&c.Partitions)
	case "cluster.replicas":
		return atoi(&c.Replicas)
	case "cluster.lease_ttl":
		return (*Duration)(&c.LeaseTTL).UnmarshalText([]byte(v))
	case "cluster.nats.url":
		c.NATS.URL = v
	case "cluster.nats.listen":
		c.NATS.Listen = v
	case "cluster.nats.cluster_listen":
		c.NATS.ClusterListen = v
	case "cluster.nats.routes":
		c.NATS.Routes = nil
		for _, r := range strings.Split(v, ",") {
			if r = strings.TrimSpace(r); r != "" {
				c.NATS.Routes = append(c.NATS.Routes, r)
			}
		}
	case "cluster.nats.store_dir":
		c.NATS.StoreDir = v
	case "cluster.nats.sync":
		c.NATS.Sync = v
	default:
		return fmt.Errorf("unknown cluster key %q", key)
	}
	return nil
}

// ClusterConfig maps [cluster] onto the cluster package's configuration. With an
// external NATS url the embedded server's listeners mean nothing and are left out.
func (c Config) ClusterConfig() cluster.Config {
	cc := cluster.Config{
		Enabled:       c.Cluster.Enabled,
		NodeID:        c.Cluster.NodeID,
		AdvertiseHTTP: c.Cluster.AdvertiseHTTP,
		AdvertiseGRPC: c.Cluster.AdvertiseGRPC,
		Partitions:    c.Cluster.Partitions,
		Replicas:      c.Cluster.Replicas,
		LeaseTTL:      c.Cluster.LeaseTTL.Std(),
		NATS: cluster.NATSConfig{
			URL:           c.Cluster.NATS.URL,
			Listen:        c.Cluster.NATS.Listen,
			ClusterListen: c.Cluster.NATS.ClusterListen,
			Routes:        append([]string(nil), c.Cluster.NATS.Routes...),
			StoreDir:      c.Cluster.NATS.StoreDir,
			Sync:          c.Cluster.NATS.Sync,
		},
	}
	if cc.AdvertiseHTTP == "" {
		cc.AdvertiseHTTP = c.Server.HTTPListen
	}
	if cc.AdvertiseGRPC == "" && hasFrontend(c.Server.Frontends, "grpc") {
		cc.AdvertiseGRPC = c.Server.GRPCListen
	}
	switch {
	case cc.NATS.URL != "":
		cc.NATS.Listen, cc.NATS.ClusterListen, cc.NATS.Routes = "", "", nil
	case len(cc.NATS.Routes) == 0:
		cc.NATS.ClusterListen = "" // a lone server: JetStream clusters only over routes
	case cc.NATS.ClusterListen == "":
		cc.NATS.ClusterListen = cluster.DefaultClusterListen
	}
	if cc.NATS.StoreDir == "" {
		cc.NATS.StoreDir = filepath.Join(c.Persistence.DataRoot, "nats")
	} else if !filepath.IsAbs(cc.NATS.StoreDir) {
		cc.NATS.StoreDir = filepath.Join(c.Persistence.DataRoot, cc.NATS.StoreDir)
	}
	return cc
}

// validateCluster checks [cluster] when it is enabled; off, nothing of it is used.
func validateCluster(c *Config) []problem {
	if !c.Cluster.Enabled {
		return nil
	}
	var ps []problem
	add := func(key, format string, args ...any) {
		ps = append(ps, problem{key, key + ": " + fmt.Sprintf(format, args...)})
	}
	cc := c.ClusterConfig()
	if c.Cluster.Partitions < 1 {
		add("cluster.partitions", "must be at least 1, got %d", c.Cluster.Partitions)
	}
	if err := cc.Validate(); err != nil {
		// The cluster package's message names the key first: "cluster.node_id ...".
		detail := strings.TrimPrefix(err.Error(), cluster.ErrInvalidConfig.Error()+": ")
		key, _, _ := strings.Cut(detail, " ")
		ps = append(ps, problem{key, detail})
	}
	for _, a := range []struct{ key, addr string }{
		{"cluster.advertise_http", cc.AdvertiseHTTP},
		{"cluster.advertise_grpc", cc.AdvertiseGRPC},
	} {
		if a.addr == "" {
			continue
		}
		if err := checkListen(a.addr); err != nil {
			add(a.key, "%v", err)
		} else if host, port, _ := net.SplitHostPort(a.addr); host == "" || net.ParseIP(host).IsUnspecified() || port == "0" {
			add(a.key, "%q is not an address other nodes can reach (unset, it is the listen address): set the host and port they dial", a.addr)
		}
	}
	if cc.NATS.URL != "" {
		for _, u := range strings.Split(cc.NATS.URL, ",") {
			if p, err := url.Parse(strings.TrimSpace(u)); err != nil || p.Host == "" || (p.Scheme != "nats" && p.Scheme != "tls") {
				add("cluster.nats.url", "must be nats://host:port (several separated by commas), got %q", u)
				break
			}
		}
		return ps
	}
	if err := checkListen(cc.NATS.Listen); err != nil {
		add("cluster.nats.listen", "%v", err)
	}
	if len(cc.NATS.Routes) > 0 {
		if err := checkListen(cc.NATS.ClusterListen); err != nil {
			add("cluster.nats.cluster_listen", "%v", err)
		}
	}
	for i, r := range cc.NATS.Routes {
		if p, err := url.Parse(r); err != nil || p.Host == "" || p.Scheme != "nats-route" {
			add("cluster.nats.routes", "routes[%d] must be nats-route://host:port, got %q", i, r)
		}
	}
	return ps
}
