package clustertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/engram-go/engram/internal/enginetest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Leases bucket and value, as docs/cluster.md names them.
const leasesBucket = "engram_leases"

type leaseValue struct {
	NodeID string `json:"node_id"`
}

// Options describe a Cluster to start.
type Options struct {
	Bin      string // the engram binary
	Dir      string // parent of every node's folder
	Nodes    int    // 0 = 3
	Single   bool   // one plain node without [cluster]: the comparison run
	Settings Settings
}

// Cluster is a set of nodes of one build and the proxies on their routes.
type Cluster struct {
	nodes    []*Node
	settings Settings
	single   bool
	// gates[i] is the proxy every route to node i goes through (none for a single node).
	gates []*Proxy
	nc    *nats.Conn
	js    jetstream.JetStream
	// asks[i] is a connection to node i's server alone, for the leases' reads: the shared
	// connection stays on a server cut off from the others for as long as the cut lasts
	// (it answers, only never for JetStream), so a read tries the nodes in turn.
	askMu   sync.Mutex
	asks    []*nats.Conn
	askLast int // the node whose server answered last, tried first
}

// Start writes every node's configuration and starts the nodes; it does not wait for
// them to serve (Ready does).
func Start(o Options) (*Cluster, error) {
	o.Settings.fill()
	count := o.Nodes
	if count == 0 {
		count = 3
	}
	if o.Single {
		count = 1
	}
	c := &Cluster{settings: o.Settings, single: o.Single}
	env := enginetest.IsolatedEnv(o.Dir)
	for i := range count {
		n, err := newNode(fmt.Sprintf("n%d", i+1), filepath.Join(o.Dir, fmt.Sprintf("n%d", i+1)), o.Bin, env)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.nodes = append(c.nodes, n)
		if !o.Single {
			g, err := newGate()
			if err != nil {
				c.Close()
				return nil, err
			}
			c.gates = append(c.gates, g)
			n.Route = g.Target()
		}
	}
	for i, n := range c.nodes {
		var peers []string
		if !o.Single {
			peers = []string{}
			for j, g := range c.gates {
				if j != i {
					peers = append(peers, g.Addr())
				}
			}
		}
		if err := n.writeConfig(configTOML(n, c.settings, peers)); err != nil {
			c.Close()
			return nil, err
		}
	}
	for _, n := range c.nodes {
		if err := n.Start(); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// Nodes are the cluster's nodes, n1 first.
func (c *Cluster) Nodes() []*Node { return c.nodes }

// Partitions is the configured partition count.
func (c *Cluster) Partitions() int { return c.settings.Partitions }

// Single reports whether this is the one-node comparison run.
func (c *Cluster) Single() bool { return c.single }

// CutOff drops every route to and from n: its peers and it no longer reach each other,
// while its HTTP and gRPC APIs stay reachable.
func (c *Cluster) CutOff(n *Node) {
	for i, g := range c.gates {
		if c.nodes[i] == n {
			g.Cut()
		} else {
			g.CutFrom(n.ID)
		}
	}
}

// Heal lets n's routes connect again.
func (c *Cluster) Heal(n *Node) {
	for i, g := range c.gates {
		if c.nodes[i] == n {
			g.Heal()
		} else {
			g.HealFrom(n.ID)
		}
	}
}

// CPU is the CPU time of every process the cluster has run.
func (c *Cluster) CPU() (time.Duration, error) {
	var sum time.Duration
	for _, n := range c.nodes {
		d, err := n.CPU()
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

// Close kills every node and stops the proxies and the harness's NATS connection.
func (c *Cluster) Close() error {
	if c.nc != nil {
		c.nc.Close()
	}
	c.askMu.Lock()
	for _, nc := range c.asks {
		if nc != nil {
			nc.Close()
		}
	}
	c.askMu.Unlock()
	var errs []error
	for _, n := range c.nodes {
		if n.Running() {
			n.Resume() // a stopped process does not die of SIGKILL until continued on some kernels
			if err := n.Kill(); err != nil && !errors.Is(err, ErrNotRunning) {
				errs = append(errs, err)
			}
		}
	}
	for _, g := range c.gates {
		g.Close()
	}
	return errors.Join(errs...)
}

// connect opens the harness's own NATS client on every node's client listener; it
// reconnects to whichever node serves for as long as the cluster lives.
func (c *Cluster) connect() error {
	if c.nc != nil {
		return nil
	}
	urls := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		urls[i] = "nats://" + n.NATS
	}
	// Frequent pings: a SIGSTOPped server keeps the connection open and answers nothing,
	// and the client must notice within seconds to move to a node that serves.
	nc, err := nats.Connect(strings.Join(urls, ","), nats.Name("clustertest"), nats.MaxReconnects(-1),
		nats.ReconnectWait(100*time.Millisecond), nats.RetryOnFailedConnect(true), nats.Timeout(2*time.Second),
		nats.PingInterval(500*time.Millisecond), nats.MaxPingsOutstanding(2))
	if err != nil {
		return fmt.Errorf("clustertest: nats: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return fmt.Errorf("clustertest: jetstream: %w", err)
	}
	c.nc, c.js = nc, js
	return nil
}

// Owners reads the leases bucket: the node id holding each partition's lease; a
// partition without one is absent. Each lease is asked of the bucket's leader: a KV Get
// is a direct get any replica answers, and a node cut off from the others has a replica
// that stopped at the cut.
func (c *Cluster) Owners(ctx context.Context) (map[int]string, error) {
	// One read's limit, so that a read every node left unanswered is asked again rather
	// than waited on.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out := make(map[int]string)
	for p := range c.settings.Partitions {
		v, held, err := c.lease(ctx, "p"+strconv.Itoa(p))
		if err != nil {
			return nil, fmt.Errorf("clustertest: lease p%d: %w", p, err)
		}
		if held {
			out[p] = v.NodeID
		}
	}
	return out, nil
}

// lease reads one key of the leases bucket from its stream's leader: the API's message
// get, which only the leader answers (a replica of a leaderless stream answers an error).
func (c *Cluster) lease(ctx context.Context, key string) (leaseValue, bool, error) {
	var v leaseValue
	req, err := json.Marshal(map[string]string{"last_by_subj": "$KV." + leasesBucket + "." + key})
	if err != nil {
		return v, false, err
	}
	msg, err := c.askLeader(ctx, "$JS.API.STREAM.MSG.GET.KV_"+leasesBucket, req)
	if err != nil {
		return v, false, err
	}
	var resp struct {
		Message *struct {
			Hdrs []byte `json:"hdrs"`
			Data []byte `json:"data"`
		} `json:"message"`
		Error *struct {
			Code        int    `json:"code"`
			ErrCode     int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return v, false, fmt.Errorf("answer %q: %w", msg.Data, err)
	}
	switch {
	case resp.Error != nil && resp.Error.ErrCode == int(jetstream.JSErrCodeMessageNotFound):
		return v, false, nil
	case resp.Error != nil:
		return v, false, fmt.Errorf("%s (%d)", resp.Error.Description, resp.Error.ErrCode)
	case resp.Message == nil:
		return v, false, fmt.Errorf("answer without a message: %q", msg.Data)
	}
	// A deletion, purge or expiry leaves a message whose headers say so, and no value.
	if h := string(resp.Message.Hdrs); strings.Contains(h, "KV-Operation") || strings.Contains(h, "Nats-Marker-Reason") {
		return v, false, nil
	}
	if err := json.Unmarshal(resp.Message.Data, &v); err != nil {
		return v, false, fmt.Errorf("%q: %w", resp.Message.Data, err)
	}
	return v, true, nil
}

// askLeader sends a JetStream API request through each node's server in turn until one
// answers with something other than "temporarily unavailable" (a server cut off from the
// others, or stopped, answers that or nothing).
func (c *Cluster) askLeader(ctx context.Context, subject string, req []byte) (*nats.Msg, error) {
	var last error
	c.askMu.Lock()
	first := c.askLast
	c.askMu.Unlock()
	for k := range c.nodes {
		i := (first + k) % len(c.nodes)
		nc, err := c.ask(i)
		if err != nil {
			last = err
			continue
		}
		tryCtx, cancel := context.WithTimeout(ctx, time.Second)
		msg, err := nc.RequestWithContext(tryCtx, subject, req)
		cancel()
		switch {
		case err != nil:
			last = err
		case bytes.Contains(msg.Data, []byte(`"err_code":10008`)):
			last = fmt.Errorf("node %s: JetStream temporarily unavailable", c.nodes[i].ID)
		default:
			c.askMu.Lock()
			c.askLast = i
			c.askMu.Unlock()
			return msg, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

// ask is the connection to node i's server alone, opened at first use.
func (c *Cluster) ask(i int) (*nats.Conn, error) {
	c.askMu.Lock()
	defer c.askMu.Unlock()
	if c.asks == nil {
		c.asks = make([]*nats.Conn, len(c.nodes))
	}
	if c.asks[i] != nil {
		return c.asks[i], nil
	}
	nc, err := nats.Connect("nats://"+c.nodes[i].NATS, nats.Name("clustertest-"+c.nodes[i].ID), nats.MaxReconnects(-1),
		nats.ReconnectWait(100*time.Millisecond), nats.RetryOnFailedConnect(true), nats.Timeout(time.Second))
	if err != nil {
		return nil, fmt.Errorf("clustertest: nats at %s: %w", c.nodes[i].ID, err)
	}
	c.asks[i] = nc
	return nc, nil
}

// node finds a node by id.
func (c *Cluster) node(id string) *Node {
	for _, n := range c.nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// WaitOwned waits until every partition's lease is held by a serving node other than
// the excluded ones, and returns how long that took. The single node is always owned.
func (c *Cluster) WaitOwned(ctx context.Context, exclude ...*Node) (time.Duration, error) {
	start := time.Now()
	if c.single {
		return 0, nil
	}
	var last error
	for {
		owners, err := c.Owners(ctx)
		if err == nil {
			if missing := c.unowned(owners, exclude); len(missing) == 0 {
				return time.Since(start), nil
			} else {
				last = fmt.Errorf("partitions without a serving owner: %v (leases %v)", missing, owners)
			}
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return time.Since(start), fmt.Errorf("clustertest: not every partition owned: %w (last: %v)", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) unowned(owners map[int]string, exclude []*Node) []int {
	var missing []int
	for p := range c.settings.Partitions {
		n := c.node(owners[p])
		ok := n != nil && n.Serving()
		for _, x := range exclude {
			ok = ok && n != x
		}
		if !ok {
			missing = append(missing, p)
		}
	}
	return missing
}

// Busiest is the node holding the most partition leases.
func (c *Cluster) Busiest(ctx context.Context) (*Node, error) {
	if c.single {
		return c.nodes[0], nil
	}
	owners, err := c.Owners(ctx)
	if err != nil {
		return nil, err
	}
	count := make(map[string]int)
	for _, id := range owners {
		count[id]++
	}
	best := c.nodes[0]
	for _, n := range c.nodes {
		if count[n.ID] > count[best.ID] {
			best = n
		}
	}
	return best, nil
}

// Ready waits until every node not ended on purpose answers /health/alive and every
// partition has a serving owner. A node that ended by itself is an error.
func (c *Cluster) Ready(ctx context.Context) error {
	for _, n := range c.nodes {
		if !n.Down() {
			if err := n.WaitAlive(ctx); err != nil {
				return err
			}
		}
	}
	_, err := c.WaitOwned(ctx)
	return err
}

// Serving are the nodes running and not stopped.
func (c *Cluster) Serving() []*Node {
	var out []*Node
	for _, n := range c.nodes {
		if n.Serving() {
			out = append(out, n)
		}
	}
	return out
}

// Restart starts a node that has ended and waits until it answers.
func (c *Cluster) Restart(ctx context.Context, n *Node) error {
	if err := n.Start(); err != nil {
		return err
	}
	return n.WaitAlive(ctx)
}

// JetStream is the harness's client of the cluster's JetStream.
func (c *Cluster) JetStream() (jetstream.JetStream, error) {
	if err := c.connect(); err != nil {
		return nil, err
	}
	return c.js, nil
}
