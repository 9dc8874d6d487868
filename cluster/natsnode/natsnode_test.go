package natsnode

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/internal/enginetest"
	"github.com/nats-io/nats.go/jetstream"
)

// guard bounds the waits of these tests as a failure guard only.
const guard = 2 * time.Minute

func TestStartRefusesBadOptions(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no name", Options{Listen: "127.0.0.1:0", StoreDir: dir}, "Options.Name"},
		{"bad listen", Options{Name: "a", Listen: "127.0.0.1", StoreDir: dir}, "Options.Listen"},
		{"bad port", Options{Name: "a", Listen: "127.0.0.1:99999", StoreDir: dir}, "Options.Listen"},
		{"bad cluster listen", Options{Name: "a", Listen: "127.0.0.1:0", ClusterListen: "x", StoreDir: dir}, "Options.ClusterListen"},
		{"no store", Options{Name: "a", Listen: "127.0.0.1:0"}, "Options.StoreDir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Start(context.Background(), tt.o)
			if err == nil {
				n.Close()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to name %s", err, tt.want)
			}
		})
	}
}

// TestEmbeddedAndExternal starts a lone embedded server with sync_interval always, connects
// a second node to it by URL, and checks both reach the same JetStream.
func TestEmbeddedAndExternal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	embedded, err := Start(ctx, Options{Name: "a", Listen: "127.0.0.1:0", StoreDir: t.TempDir(), SyncAlways: true})
	if err != nil {
		t.Fatal(err)
	}
	defer embedded.Close()
	if embedded.ClusterAddr() != "" {
		t.Fatalf("lone server has a route listener %s", embedded.ClusterAddr())
	}
	external, err := Start(ctx, Options{Name: "b", URL: embedded.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer external.Close()
	if external.ClientURL() != embedded.ClientURL() {
		t.Fatalf("external node at %s, want %s", external.ClientURL(), embedded.ClientURL())
	}

	kv, err := embedded.JetStream().CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "probe", Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	other, err := external.JetStream().KeyValue(ctx, "probe")
	if err != nil {
		t.Fatal(err)
	}
	e, err := other.Get(ctx, "k")
	if err != nil || string(e.Value()) != "v" {
		t.Fatalf("get through the external node: %v, %v", e, err)
	}
	// A key never written is not there (nothing leaks in from elsewhere).
	if _, err := other.Get(ctx, "other"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("get of an unwritten key: %v", err)
	}
}

// TestClusterForms starts three routed servers and checks JetStream placed an R3 stream on
// all of them.
func TestClusterForms(t *testing.T) {
	if testing.Short() {
		t.Skip("three servers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	dir := t.TempDir()
	addrs := make([]string, 3)
	for i := range addrs {
		addrs[i] = enginetest.FreeAddr(t)
	}
	nodes := make([]*Node, 3)
	errs := make(chan error, 3)
	for i := range nodes {
		go func() {
			var err error
			nodes[i], err = Start(ctx, Options{
				Name: string(rune('a' + i)), Listen: "127.0.0.1:0", ClusterListen: addrs[i],
				Routes: addrs, StoreDir: dir + "/" + string(rune('a'+i)), SyncAlways: true,
			})
			errs <- err
		}()
	}
	for range nodes {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	for i, n := range nodes {
		if n.ClusterAddr() != addrs[i] {
			t.Fatalf("node %d routes on %s, want %s", i, n.ClusterAddr(), addrs[i])
		}
	}
	s, err := nodes[0].JetStream().CreateStream(ctx, jetstream.StreamConfig{Name: "R3", Subjects: []string{"r3"}, Replicas: 3, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Cluster == nil || info.Cluster.Name != ClusterName || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("stream cluster info %+v: want cluster %q with a leader and 2 replicas", info.Cluster, ClusterName)
	}
}

// TestStartWaitsForQuorum: a clustered server whose peers never come up has no JetStream
// meta leader, and Start gives up when its context ends.
func TestStartWaitsForQuorum(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	self := enginetest.FreeAddr(t)
	n, err := Start(ctx, Options{Name: "a", Listen: "127.0.0.1:0", ClusterListen: self,
		Routes: []string{self, enginetest.FreeAddr(t), enginetest.FreeAddr(t)}, StoreDir: t.TempDir()})
	if err == nil {
		n.Close()
		t.Fatal("ready without its peers")
	}
	if !errors.Is(err, ErrNotReady) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrNotReady after the deadline", err)
	}
}
