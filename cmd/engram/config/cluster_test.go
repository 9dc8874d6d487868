package config

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/cluster"
)

const clusterFile = `
[server]
http_listen = "127.0.0.1:7001"
grpc_listen = "127.0.0.1:7002"

[cluster]
enabled = true
node_id = "n1"
advertise_http = "10.0.0.1:7432"
partitions = 5
replicas = 1
lease_ttl = "4s"

[cluster.nats]
listen = "127.0.0.1:4300"
cluster_listen = "127.0.0.1:6300"
routes = ["nats-route://127.0.0.1:6301", "nats-route://127.0.0.1:6302"]
store_dir = "js"
sync = "interval"
`

func TestClusterKeysParsed(t *testing.T) {
	s := newSandbox(t)
	cfg, err := s.loadText(t, clusterFile)
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.ClusterConfig()
	want := cluster.Config{
		Enabled: true, NodeID: "n1", AdvertiseHTTP: "10.0.0.1:7432", AdvertiseGRPC: "127.0.0.1:7002",
		Partitions: 5, Replicas: 1, LeaseTTL: 4 * time.Second,
		NATS: cluster.NATSConfig{Listen: "127.0.0.1:4300", ClusterListen: "127.0.0.1:6300",
			Routes:   []string{"nats-route://127.0.0.1:6301", "nats-route://127.0.0.1:6302"},
			StoreDir: filepath.Join(cfg.Persistence.DataRoot, "js"), Sync: "interval"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("cluster config:\n got %+v\nwant %+v", got, want)
	}
}

func TestClusterOffByDefault(t *testing.T) {
	s := newSandbox(t)
	cfg, err := Load(s.source())
	if err != nil {
		t.Fatal(err)
	}
	cc := cfg.ClusterConfig()
	if cc.Enabled {
		t.Fatal("cluster enabled by default")
	}
	if cc.Partitions != cluster.DefaultPartitions || cc.Replicas != cluster.DefaultReplicas ||
		cc.LeaseTTL != cluster.DefaultLeaseTTL || cc.NATS.Sync != cluster.SyncAlways ||
		cc.NATS.StoreDir != filepath.Join(cfg.Persistence.DataRoot, "nats") {
		t.Fatalf("defaults: %+v", cc)
	}
	// Off, nothing of the section is checked: a node id is not required.
	if err := cc.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestClusterPrecedence: flag > environment > file > default, for every cluster key.
func TestClusterPrecedence(t *testing.T) {
	const file = "[cluster]\nenabled = true\nnode_id = \"file\"\npartitions = 7\nlease_ttl = \"3s\"\n" +
		"[cluster.nats]\nsync = \"interval\"\nroutes = [\"nats-route://127.0.0.1:1\"]\n"
	cases := []struct {
		name  string
		env   env
		flags map[string]string
		check func(cluster.Config) bool
	}{
		{"file", nil, nil, func(c cluster.Config) bool {
			return c.NodeID == "file" && c.Partitions == 7 && c.LeaseTTL == 3*time.Second && c.NATS.Sync == "interval"
		}},
		{"env over file", env{"ENGRAM_CLUSTER_NODE_ID": "env", "ENGRAM_CLUSTER_PARTITIONS": "9", "ENGRAM_CLUSTER_LEASE_TTL": "5s",
			"ENGRAM_CLUSTER_NATS_ROUTES": "nats-route://127.0.0.1:2, nats-route://127.0.0.1:3"}, nil,
			func(c cluster.Config) bool {
				return c.NodeID == "env" && c.Partitions == 9 && c.LeaseTTL == 5*time.Second &&
					reflect.DeepEqual(c.NATS.Routes, []string{"nats-route://127.0.0.1:2", "nats-route://127.0.0.1:3"})
			}},
		{"flag over env", env{"ENGRAM_CLUSTER_NODE_ID": "env", "ENGRAM_CLUSTER_NATS_SYNC": "always"},
			map[string]string{"cluster.node_id": "flag", "cluster.nats.sync": "interval", "cluster.replicas": "5"},
			func(c cluster.Config) bool { return c.NodeID == "flag" && c.NATS.Sync == "interval" && c.Replicas == 5 }},
		{"env turns it off", env{"ENGRAM_CLUSTER_ENABLED": "false"}, nil,
			func(c cluster.Config) bool { return !c.Enabled }},
		{"external url drops the embedded listeners", env{"ENGRAM_CLUSTER_NATS_URL": "nats://10.0.0.9:4222"}, nil,
			func(c cluster.Config) bool {
				return c.NATS.URL == "nats://10.0.0.9:4222" && c.NATS.Listen == "" && c.NATS.Routes == nil
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			for k, v := range tc.env {
				s.env[k] = v
			}
			src := s.source()
			src.Path = s.write(t, "config.toml", file)
			src.Cluster = tc.flags
			cfg, err := Load(src)
			if err != nil {
				t.Fatal(err)
			}
			if cc := cfg.ClusterConfig(); !tc.check(cc) {
				t.Fatalf("cluster config %+v", cc)
			}
		})
	}
}

func TestClusterBadValuesNameTheKey(t *testing.T) {
	const base = "[cluster]\nenabled = true\nnode_id = \"n1\"\n"
	cases := []struct {
		name, file string
		env        env
		flags      map[string]string
		key, from  string
	}{
		{"node id missing", "[cluster]\nenabled = true\n", nil, nil, "cluster.node_id", "cluster.node_id"},
		{"node id bad", "[cluster]\nenabled = true\nnode_id = \"Node_1\"\n", nil, nil, "cluster.node_id", ":3"},
		{"partitions", base + "partitions = 0\n", nil, nil, "cluster.partitions", ":4"},
		{"replicas", base + "replicas = 2\n", nil, nil, "cluster.replicas", ":4"},
		{"lease ttl", base + "lease_ttl = \"100ms\"\n", nil, nil, "cluster.lease_ttl", ":4"},
		{"sync", base + "[cluster.nats]\nsync = \"sometimes\"\nroutes = [\"nats-route://127.0.0.1:1\"]\n", nil, nil, "cluster.nats.sync", ":5"},
		{"replicas without routes", base, nil, nil, "cluster.replicas", "cluster.nats.routes"},
		{"route", base + "[cluster.nats]\nroutes = [\"127.0.0.1:6222\"]\n", nil, nil, "cluster.nats.routes", ":5"},
		{"url", base + "[cluster.nats]\nurl = \"http://x:1\"\n", nil, nil, "cluster.nats.url", ":5"},
		{"advertise unspecified", base + "replicas = 1\nadvertise_http = \"0.0.0.0:7432\"\n", nil, nil, "cluster.advertise_http", ":5"},
		{"unknown key when enabled", base + "seeds = []\n", nil, nil, "cluster.seeds", ":4"},
		{"env partitions", base, env{"ENGRAM_CLUSTER_PARTITIONS": "many"}, nil, "cluster.partitions", "ENGRAM_CLUSTER_PARTITIONS"},
		{"flag enabled", "", nil, map[string]string{"cluster.enabled": "yes please"}, "cluster.enabled", "--cluster-enabled"},
		{"flag node id", "", nil, map[string]string{"cluster.enabled": "true", "cluster.node_id": "UPPER"}, "cluster.node_id", "--cluster-node-id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			for k, v := range tc.env {
				s.env[k] = v
			}
			src := s.source()
			src.Path = s.write(t, "config.toml", tc.file)
			src.Cluster = tc.flags
			_, err := Load(src)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if ce.Key != tc.key || !strings.Contains(err.Error(), tc.from) {
				t.Fatalf("err = %v (key %q), want key %s and %q", err, ce.Key, tc.key, tc.from)
			}
		})
	}
}

func TestClusterShownAndLoadedBack(t *testing.T) {
	s := newSandbox(t)
	cfg, err := s.loadText(t, clusterFile)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := cfg.WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[cluster]", "node_id = \"n1\"", "[cluster.nats]", "lease_ttl = \"4s\""} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("shown configuration lacks %q:\n%s", want, b.String())
		}
	}
	src := s.source()
	src.Path = s.write(t, "shown.toml", b.String())
	again, err := Load(src)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.ClusterConfig(), cfg.ClusterConfig()) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", again.ClusterConfig(), cfg.ClusterConfig())
	}
}

func TestClusterFlagAndEnvNames(t *testing.T) {
	for _, tc := range []struct{ key, env, flag string }{
		{"cluster.enabled", "ENGRAM_CLUSTER_ENABLED", "cluster-enabled"},
		{"cluster.nats.cluster_listen", "ENGRAM_CLUSTER_NATS_CLUSTER_LISTEN", "cluster-nats-cluster-listen"},
	} {
		if got := ClusterEnv(tc.key); got != tc.env {
			t.Errorf("ClusterEnv(%s) = %s, want %s", tc.key, got, tc.env)
		}
		if got := ClusterFlag(tc.key); got != tc.flag {
			t.Errorf("ClusterFlag(%s) = %s, want %s", tc.key, got, tc.flag)
		}
	}
}

// A Rust [cluster] section is skipped while the cluster is off; turned on by a variable,
// its unknown keys are errors.
func TestRustClusterSectionWhenEnabledElsewhere(t *testing.T) {
	const file = "[cluster]\nenabled = false\n\n[cluster.swim]\nping_interval = \"1s\"\n"
	s := newSandbox(t)
	cfg, err := s.loadText(t, file)
	if err != nil || len(cfg.Notices) != 1 {
		t.Fatalf("cluster off: %v, notices %q", err, cfg.Notices)
	}
	s.env["ENGRAM_CLUSTER_ENABLED"] = "true"
	_, err = s.loadText(t, file)
	var ce *Error
	if !errors.As(err, &ce) || ce.Kind != ErrUnknownKey || ce.Key != "cluster.swim" || ce.Line != 4 ||
		!strings.Contains(err.Error(), "ENGRAM_CLUSTER_ENABLED") {
		t.Fatalf("err = %v, want unknown key cluster.swim at line 4 naming ENGRAM_CLUSTER_ENABLED", err)
	}
}
