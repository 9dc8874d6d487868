package cluster

import (
	"slices"
	"testing"
	"time"
)

func TestConfigParts(t *testing.T) {
	tests := []struct {
		sync       string
		syncAlways bool
	}{
		{SyncAlways, true},
		{SyncInterval, false},
	}
	for _, tt := range tests {
		c := Config{
			Enabled: true, NodeID: "n1", AdvertiseHTTP: "h:1", AdvertiseGRPC: "g:2",
			Partitions: 5, Replicas: 3, LeaseTTL: 7 * time.Second,
			NATS: NATSConfig{Listen: "127.0.0.1:4222", ClusterListen: "127.0.0.1:6222",
				Routes: []string{"nats-route://127.0.0.1:6223"}, StoreDir: "/d/nats", Sync: tt.sync},
		}
		o := c.NATSOptions(nil)
		if o.Name != "n1" || o.URL != "" || o.Listen != c.NATS.Listen || o.ClusterListen != c.NATS.ClusterListen ||
			!slices.Equal(o.Routes, c.NATS.Routes) || o.StoreDir != "/d/nats" || o.SyncAlways != tt.syncAlways {
			t.Errorf("sync %s: NATSOptions = %+v", tt.sync, o)
		}
		m := c.MemberConfig()
		if m.NodeID != "n1" || m.HTTP != "h:1" || m.GRPC != "g:2" || m.Partitions != 5 || m.Replicas != 3 || m.LeaseTTL != 7*time.Second {
			t.Errorf("MemberConfig = %+v", m)
		}
	}
}
