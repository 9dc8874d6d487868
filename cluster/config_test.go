package cluster

import (
	"errors"
	"strings"
	"testing"
)

func TestConfigLoneServerAndRoutes(t *testing.T) {
	cases := []struct {
		name          string
		nats          NATSConfig
		replicas      int
		clusterListen string
		errKey        string // "" = valid
	}{
		{"lone server, one replica", NATSConfig{}, 1, "", ""},
		{"lone server cannot hold three replicas", NATSConfig{}, 3, "", "cluster.replicas"},
		{"routes bring the route listener", NATSConfig{Routes: []string{"nats-route://10.0.0.2:6222"}}, 3, DefaultClusterListen, ""},
		{"external cluster", NATSConfig{URL: "nats://10.0.0.9:4222"}, 3, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Enabled: true, NodeID: "n1", AdvertiseHTTP: "10.0.0.1:7432", Replicas: tc.replicas, NATS: tc.nats}
			c.SetDefaults()
			if c.NATS.ClusterListen != tc.clusterListen {
				t.Fatalf("cluster listener %q, want %q", c.NATS.ClusterListen, tc.clusterListen)
			}
			err := c.Validate()
			switch {
			case tc.errKey == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.errKey != "" && (!errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.errKey)):
				t.Fatalf("Validate: %v, want an error naming %s", err, tc.errKey)
			}
		})
	}
}
