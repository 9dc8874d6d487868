// Package natsnode gives a cluster node its NATS connection: either a nats-server embedded in
// the process (client and route listeners, JetStream on local files) or a connection to an
// external NATS cluster by URL.
//
// Invariants: Start returns only once JetStream answers API requests (in a cluster, once a
// meta leader is elected), so a caller can create streams and buckets at once; Close closes
// the connection before it shuts the embedded server down, and returns once the server has
// stopped and released its store.
package natsnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ClusterName is the NATS cluster name every embedded server joins.
const ClusterName = "engram"

// ErrNotReady is returned when JetStream does not answer before the context ends.
var ErrNotReady = errors.New("natsnode: JetStream not ready")

// Options configure Start. The fields follow [cluster.nats] (docs/configuration.md).
type Options struct {
	// Name is the server name and client connection name: the node id, unique in the cluster.
	Name string
	// URL of an external NATS cluster; empty embeds a server built from the fields below.
	URL string
	// Listen is the embedded server's client listener, host:port (port 0 picks a free one).
	Listen string
	// ClusterListen is the route listener, host:port; empty runs a lone server (no routes).
	ClusterListen string
	// Routes are the other servers' route listeners (nats-route://host:port or host:port).
	Routes []string
	// StoreDir holds JetStream's files.
	StoreDir string
	// SyncAlways is sync_interval: always, so a PubAck means on disk on a quorum
	// (docs/cluster.md, "What JetStream's acknowledgement promises").
	SyncAlways bool
	// Logger receives the embedded server's warnings and errors; nil discards them.
	Logger *slog.Logger
}

// Node is a NATS connection with JetStream, and the embedded server behind it if any.
type Node struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	server *server.Server // nil when connected to an external URL
}

// Start embeds a server (or connects to o.URL), connects to it and waits until JetStream
// answers or ctx ends.
func Start(ctx context.Context, o Options) (*Node, error) {
	if o.Name == "" {
		return nil, errors.New("natsnode: Options.Name is empty")
	}
	n := &Node{}
	var connOpts []nats.Option
	url := o.URL
	if url == "" {
		s, err := startServer(o)
		if err != nil {
			return nil, err
		}
		n.server = s
		url = s.ClientURL()
		connOpts = append(connOpts, nats.InProcessServer(s))
	}
	connOpts = append(connOpts, nats.Name(o.Name), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond))
	nc, err := nats.Connect(url, connOpts...)
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("natsnode: connect %s: %w", url, err)
	}
	n.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("natsnode: jetstream: %w", err)
	}
	n.js = js
	if err := waitReady(ctx, js); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// startServer builds and starts the embedded server of o.
func startServer(o Options) (*server.Server, error) {
	host, port, err := splitHostPort(o.Listen, "Listen")
	if err != nil {
		return nil, err
	}
	if o.StoreDir == "" {
		return nil, errors.New("natsnode: Options.StoreDir is empty")
	}
	opts := &server.Options{
		ServerName: o.Name,
		Host:       host,
		Port:       port,
		NoSigs:     true,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		SyncAlways: o.SyncAlways,
		// A peer that is down is retried every second; report that once a minute, not
		// at every attempt.
		ConnectErrorReports:   60,
		ReconnectErrorReports: 60,
	}
	if o.ClusterListen != "" {
		chost, cport, err := splitHostPort(o.ClusterListen, "ClusterListen")
		if err != nil {
			return nil, err
		}
		opts.Cluster = server.ClusterOpts{Name: ClusterName, Host: chost, Port: cport}
		var routes []string
		for _, r := range o.Routes {
			if !strings.Contains(r, "://") {
				r = "nats-route://" + r
			}
			routes = append(routes, r)
		}
		if len(routes) > 0 {
			// RoutesFromStr("") is one route with an empty address, dialled in vain for
			// ever; without routes the server says plainly what JetStream needs.
			opts.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsnode: server %s: %w", o.Name, err)
	}
	s.SetLoggerV2(serverLogger{o.Logger}, false, false, false)
	s.Start()
	// The listeners are up within moments; a server that cannot bind fails here.
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("natsnode: server %s: listeners %s / %s not ready", o.Name, o.Listen, o.ClusterListen)
	}
	return s, nil
}

// splitHostPort parses host:port for the server's options; port 0 picks a free port, which
// nats-server spells RANDOM_PORT (its 0 is the default port).
func splitHostPort(addr, field string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("natsnode: Options.%s %q: %w", field, addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("natsnode: Options.%s %q: bad port", field, addr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// waitReady polls JetStream's account info until it answers: a clustered server answers
// only once a meta leader is elected, which needs a quorum of the servers to be up.
func waitReady(ctx context.Context, js jetstream.JetStream) error {
	var last error
	for {
		callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := js.AccountInfo(callCtx)
		cancel()
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w (last answer: %v)", ErrNotReady, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Conn is the node's NATS connection.
func (n *Node) Conn() *nats.Conn { return n.nc }

// JetStream is the node's JetStream context.
func (n *Node) JetStream() jetstream.JetStream { return n.js }

// ClientURL is the embedded server's client URL, or the external URL connected to.
func (n *Node) ClientURL() string {
	if n.server != nil {
		return n.server.ClientURL()
	}
	return n.nc.ConnectedUrl()
}

// ClusterAddr is the embedded server's route listener address (host:port), empty when there
// is none.
func (n *Node) ClusterAddr() string {
	if n.server == nil {
		return ""
	}
	if a := n.server.ClusterAddr(); a != nil {
		return a.String()
	}
	return ""
}

// Close closes the connection, then shuts the embedded server down and waits for it.
func (n *Node) Close() error {
	if n.nc != nil {
		n.nc.Close()
	}
	if n.server != nil {
		n.server.Shutdown()
		n.server.WaitForShutdown()
	}
	return nil
}
