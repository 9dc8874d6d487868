// Package natsnodetest starts embedded NATS servers for the cluster packages' tests: one
// lone server, or several routed to each other over loopback, each with JetStream on its
// own folder. Servers are closed when the test ends.
package natsnodetest

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/engram-go/engram/cluster/natsnode"
	"github.com/engram-go/engram/internal/enginetest"
)

// Start starts n embedded servers named s0..s<n-1>; more than one form a cluster over
// loopback route ports picked up front. It returns once each answers JetStream requests,
// or fails the test after two minutes.
func Start(t testing.TB, n int, logger *slog.Logger) []*natsnode.Node {
	t.Helper()
	dir := t.TempDir()
	opts := make([]natsnode.Options, n)
	var routes []string
	for i := range opts {
		opts[i] = natsnode.Options{
			Name:     fmt.Sprintf("s%d", i),
			Listen:   "127.0.0.1:0",
			StoreDir: filepath.Join(dir, fmt.Sprintf("s%d", i)),
			Logger:   logger,
		}
		if n > 1 {
			opts[i].ClusterListen = enginetest.FreeAddr(t)
			routes = append(routes, opts[i].ClusterListen)
		}
	}
	nodes := make([]*natsnode.Node, n)
	errs := make([]error, n)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for i := range opts {
		opts[i].Routes = routes
		wg.Go(func() { nodes[i], errs[i] = natsnode.Start(ctx, opts[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			for _, nd := range nodes {
				if nd != nil {
					nd.Close()
				}
			}
			t.Fatalf("server %d: %v", i, err)
		}
	}
	t.Cleanup(func() {
		for _, nd := range nodes {
			nd.Close()
		}
	})
	return nodes
}
