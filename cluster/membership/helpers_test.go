package membership

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/engram-go/engram/cluster/natsnode"
	"github.com/engram-go/engram/cluster/natsnode/natsnodetest"
)

// guard bounds every wait of these tests: a failure guard, far beyond what any step takes.
const guard = 2 * time.Minute

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startServers starts n embedded NATS servers: one lone server, or a cluster.
func startServers(t *testing.T, n int) []*natsnode.Node {
	t.Helper()
	return natsnodetest.Start(t, n, testLogger())
}

// timeline records every node's hook calls in one order and checks, as they happen, that a
// partition never has two leaders: Lead(p) on a node only after the previous leader's
// Resign(p).
type timeline struct {
	t       *testing.T
	mu      sync.Mutex
	events  []string
	leader  map[int]string
	leads   map[string]int // Lead calls per node
	resigns map[string]int
}

func newTimeline(t *testing.T) *timeline {
	return &timeline{t: t, leader: map[int]string{}, leads: map[string]int{}, resigns: map[string]int{}}
}

func (tl *timeline) lead(node string, p int) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.events = append(tl.events, fmt.Sprintf("%s lead p%d", node, p))
	if cur, ok := tl.leader[p]; ok {
		tl.t.Errorf("%s leads p%d while %s still leads it; timeline: %v", node, p, cur, tl.events)
	}
	tl.leader[p] = node
	tl.leads[node]++
}

func (tl *timeline) resign(node string, p int) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.events = append(tl.events, fmt.Sprintf("%s resign p%d", node, p))
	if cur := tl.leader[p]; cur != node {
		tl.t.Errorf("%s resigns p%d led by %q; timeline: %v", node, p, cur, tl.events)
	}
	delete(tl.leader, p)
	tl.resigns[node]++
}

// leaders returns the leader of each partition by the hooks, "" for none.
func (tl *timeline) leaders(partitions int) []string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	out := make([]string, partitions)
	for p := range out {
		out[p] = tl.leader[p]
	}
	return out
}

func (tl *timeline) count(node string) (leads, resigns int) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return tl.leads[node], tl.resigns[node]
}

// recHooks are a node's hooks writing to a timeline; Prepare counts its calls. With block
// set, the first Prepare of each partition reports on entered and waits for block to close,
// as a long catch-up would.
type recHooks struct {
	node     string
	tl       *timeline
	block    chan struct{}
	entered  chan int
	mu       sync.Mutex
	prepared map[int]int
}

func (h *recHooks) Prepare(ctx context.Context, p int) error {
	h.mu.Lock()
	h.prepared[p]++
	first := h.prepared[p] == 1
	h.mu.Unlock()
	if first && h.block != nil {
		h.entered <- p
		select {
		case <-h.block:
		case <-ctx.Done():
		}
	}
	return ctx.Err()
}

func (h *recHooks) prepareCalls(p int) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.prepared[p]
}
func (h *recHooks) Lead(p int)   { h.tl.lead(h.node, p) }
func (h *recHooks) Resign(p int) { h.tl.resign(h.node, p) }

// cluster is a set of members under test, sharing a timeline.
type cluster struct {
	t          *testing.T
	servers    []*natsnode.Node
	tl         *timeline
	partitions int
	replicas   int
	ttl        time.Duration
	members    map[string]*Member
	hooks      map[string]*recHooks
}

func newCluster(t *testing.T, servers []*natsnode.Node, partitions int, ttl time.Duration) *cluster {
	replicas := 1
	if len(servers) > 1 {
		replicas = 3
	}
	c := &cluster{t: t, servers: servers, tl: newTimeline(t), partitions: partitions, replicas: replicas, ttl: ttl,
		members: map[string]*Member{}, hooks: map[string]*recHooks{}}
	t.Cleanup(func() {
		for _, m := range c.members {
			m.Close()
		}
	})
	return c
}

func (c *cluster) config(id string) Config {
	return Config{NodeID: id, HTTP: id + ":8080", GRPC: id + ":9090", Partitions: c.partitions, Replicas: c.replicas, LeaseTTL: c.ttl}
}

// start starts member id on server s.
func (c *cluster) start(id string, s int) *Member {
	c.t.Helper()
	return c.startWith(id, c.servers[s], &recHooks{node: id, tl: c.tl, prepared: map[int]int{}})
}

// startWith starts member id on connection n with hooks h.
func (c *cluster) startWith(id string, n *natsnode.Node, h *recHooks) *Member {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	m, err := Start(ctx, n.JetStream(), c.config(id), h, testLogger().With("member", id))
	if err != nil {
		c.t.Fatalf("start %s: %v", id, err)
	}
	c.members[id] = m
	c.hooks[id] = h
	return m
}

// startAll starts member ids[i] on server i, all at once, as nodes of a cluster started
// together do: they race to create the buckets and the partition count.
func (c *cluster) startAll(ids ...string) {
	c.t.Helper()
	members := make([]*Member, len(ids))
	hooks := make([]*recHooks, len(ids))
	errs := make([]error, len(ids))
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	var wg sync.WaitGroup
	for i, id := range ids {
		hooks[i] = &recHooks{node: id, tl: c.tl, prepared: map[int]int{}}
		wg.Go(func() {
			members[i], errs[i] = Start(ctx, c.servers[i].JetStream(), c.config(id), hooks[i], testLogger().With("member", id))
		})
	}
	wg.Wait()
	for i, id := range ids {
		if errs[i] != nil {
			c.t.Fatalf("start %s: %v", id, errs[i])
		}
		c.members[id], c.hooks[id] = members[i], hooks[i]
	}
}

// stop closes member id gracefully.
func (c *cluster) stop(id string) {
	c.t.Helper()
	if err := c.members[id].Close(); err != nil {
		c.t.Errorf("close %s: %v", id, err)
	}
	delete(c.members, id)
}

// expected is the placement of every partition over nodes by rendezvous hashing.
func (c *cluster) expected(nodes ...string) []string {
	out := make([]string, c.partitions)
	for p := range out {
		out[p] = rank(p, nodes)[0]
	}
	return out
}

// waitPlacement waits until every partition is led, by the hooks, by the node want names,
// and the leases bucket and every member's view agree; it also checks, all along, that no
// two members hold a partition at once.
func (c *cluster) waitPlacement(want []string) {
	c.t.Helper()
	deadline := time.Now().Add(guard)
	for {
		c.checkSingleHolder()
		if slices.Equal(c.tl.leaders(c.partitions), want) && c.bucketAgrees(want) {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("placement not reached: leaders %v, want %v; timeline %v", c.tl.leaders(c.partitions), want, c.tl.events)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkSingleHolder fails if two members hold one partition's lease at once.
func (c *cluster) checkSingleHolder() {
	c.t.Helper()
	for p := range c.partitions {
		var holders []string
		for id, m := range c.members {
			if m.Holds(p) {
				holders = append(holders, id)
			}
		}
		if len(holders) > 1 {
			c.t.Fatalf("p%d held by %v at once", p, holders)
		}
	}
}

// bucketAgrees reports whether engram_leases, every member's Partitions and Owner, and the
// holders' Holds all name want's owners.
func (c *cluster) bucketAgrees(want []string) bool {
	for id, m := range c.members {
		for p, st := range m.Partitions() {
			if st.Owner != want[p] || st.Revision == 0 || st.Since.IsZero() {
				return false
			}
			o, ok := m.Owner(p)
			if !ok || o.NodeID != want[p] || o.HTTP != want[p]+":8080" || o.GRPC != want[p]+":9090" {
				return false
			}
			if (want[p] == id) != m.Holds(p) {
				return false
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	for _, m := range c.members {
		for p := range c.partitions {
			e, err := m.leases.Get(ctx, leaseKey(p))
			if err != nil || !jsonHasNode(e.Value(), want[p]) {
				return false
			}
		}
		break
	}
	return true
}
