package jetstream

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ErrNotReady is returned when the servers do not form a JetStream cluster in time.
var ErrNotReady = errors.New("jetstream: cluster not ready")

// Cluster is three NATS servers with JetStream, embedded in this process and clustered over
// loopback. One process rather than three: the figure wanted is the CPU of the whole cluster
// per record, which getrusage of one process gives in one reading (clients included, as an
// engram node would embed its server and publish to it); per-node CPU does not enter the
// batching decision.
type Cluster struct {
	Servers []*server.Server
}

// StartCluster starts three servers storing under dir. syncAlways is the server option
// `sync_interval: always` (fsync every write); false keeps the server's default, which
// fsyncs its files every two minutes and relies on replication for durability in between.
func StartCluster(dir string, syncAlways bool) (*Cluster, error) {
	const n = 3
	ports := make([]int, n)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	routes := make([]*url.URL, n)
	for i, p := range ports {
		routes[i] = &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)}
	}
	c := &Cluster{}
	for i := range n {
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       server.RANDOM_PORT,
			NoLog:      true,
			NoSigs:     true,
			JetStream:  true,
			StoreDir:   filepath.Join(dir, fmt.Sprintf("n%d", i+1)),
			SyncAlways: syncAlways,
			Cluster:    server.ClusterOpts{Name: "engram-bench", Host: "127.0.0.1", Port: ports[i]},
			Routes:     routes,
		}
		s, err := server.NewServer(opts)
		if err != nil {
			c.Shutdown()
			return nil, fmt.Errorf("jetstream: server n%d: %w", i+1, err)
		}
		s.Start()
		c.Servers = append(c.Servers, s)
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, s := range c.Servers {
		if !s.ReadyForConnections(time.Until(deadline)) {
			c.Shutdown()
			return nil, fmt.Errorf("%w: %s not accepting connections", ErrNotReady, s.Name())
		}
	}
	for time.Now().Before(deadline) {
		ready := true
		for _, s := range c.Servers {
			ready = ready && s.JetStreamIsClustered() && s.JetStreamIsCurrent() && s.NumRoutes() >= n-1
		}
		if ready {
			return c, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.Shutdown()
	return nil, fmt.Errorf("%w: no JetStream meta leader within a minute", ErrNotReady)
}

// URLs returns the client URL of each server.
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		out[i] = s.ClientURL()
	}
	return out
}

// Shutdown stops every server and waits for them.
func (c *Cluster) Shutdown() {
	for _, s := range c.Servers {
		s.Shutdown()
	}
	for _, s := range c.Servers {
		s.WaitForShutdown()
	}
}

// freePort returns a loopback TCP port that was free a moment ago. The cluster's routes must
// name every peer's port before any server starts, so the ports are picked up front.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("jetstream: pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
