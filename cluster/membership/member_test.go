package membership

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/cluster/natsnode"
)

func jsonHasNode(value []byte, node string) bool {
	var rec leaseRecord
	return json.Unmarshal(value, &rec) == nil && rec.NodeID == node
}

// longTTL is a lease TTL no test waits out: a partition that changes owner under it was
// released, not left to expire.
const longTTL = time.Hour

func TestStartRefusesAnotherClusterSetting(t *testing.T) {
	servers := startServers(t, 1)
	c := newCluster(t, servers, 3, longTTL)
	c.start("a", 0)
	tests := []struct {
		name   string
		change func(*Config)
		want   error
	}{
		{"partitions", func(cfg *Config) { cfg.Partitions = 4 }, ErrPartitionsMismatch},
		{"lease ttl", func(cfg *Config) { cfg.LeaseTTL = 2 * time.Hour }, ErrLeaseTTLMismatch},
		{"empty node id", func(cfg *Config) { cfg.NodeID = "" }, nil},
		{"short lease", func(cfg *Config) { cfg.LeaseTTL = time.Millisecond }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := c.config("b")
			tt.change(&cfg)
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			m, err := Start(ctx, servers[0].JetStream(), cfg, &recHooks{node: "b", tl: c.tl, prepared: map[int]int{}}, nil)
			if err == nil {
				m.Close()
				t.Fatal("started")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// Nothing the refused nodes did changed the cluster.
	e, err := c.members["a"].clusterKV.Get(context.Background(), partitionsKey)
	if err != nil || string(e.Value()) != "3" {
		t.Fatalf("partitions = %q, %v; want 3", e.Value(), err)
	}
	if nodes := c.members["a"].Nodes(); len(nodes) != 1 || nodes[0].NodeID != "a" {
		t.Fatalf("nodes = %+v, want only a", nodes)
	}
}

func TestParseLeaseKey(t *testing.T) {
	tests := []struct {
		key  string
		p    int
		isOK bool
	}{
		{"p0", 0, true},
		{"p17", 17, true},
		{leaseKey(1023), 1023, true},
		{"p", 0, false},
		{"p01", 0, false}, // not what leaseKey writes
		{"p-1", 0, false},
		{"q1", 0, false},
		{"p1x", 0, false},
	}
	for _, tt := range tests {
		p, ok := parseLeaseKey(tt.key)
		if ok != tt.isOK || (ok && p != tt.p) {
			t.Errorf("parseLeaseKey(%q) = %d, %v; want %d, %v", tt.key, p, ok, tt.p, tt.isOK)
		}
	}
}

func TestRank(t *testing.T) {
	nodes := []string{"a", "b", "c", "d"}
	const partitions = 256
	share := map[string]int{}
	for p := range partitions {
		r := rank(p, nodes)
		if !slices.Equal(r, rank(p, slices.Concat(nodes[2:], nodes[:2]))) {
			t.Fatalf("p%d: rank depends on the input order", p)
		}
		share[r[0]]++
		// Removing a node moves only its own partitions, to its runner-up.
		for _, gone := range nodes {
			rest := slices.DeleteFunc(slices.Clone(nodes), func(n string) bool { return n == gone })
			got := rank(p, rest)[0]
			want := r[0]
			if want == gone {
				want = r[1]
			}
			if got != want {
				t.Fatalf("p%d without %s placed on %s, want %s", p, gone, got, want)
			}
		}
	}
	for _, n := range nodes {
		if share[n] < partitions/len(nodes)/2 {
			t.Errorf("node %s places %d of %d partitions: %v", n, share[n], partitions, share)
		}
	}
}

// TestLifecycle runs on one server with R1 buckets and a lease TTL no step waits out, so
// every change of owner it sees is a release: joins, a drain and graceful stops.
func TestLifecycle(t *testing.T) {
	c := newCluster(t, startServers(t, 1), 8, longTTL)
	for _, id := range []string{"a", "b"} {
		c.start(id, 0)
	}
	c.waitPlacement(c.expected("a", "b"))
	t.Run("join catches up, then takes its share", func(t *testing.T) {
		before, after := c.expected("a", "b"), c.expected("a", "b", "c")
		var moving []int
		for p := range after {
			if after[p] == "c" {
				moving = append(moving, p)
			}
		}
		if len(moving) == 0 {
			t.Fatalf("placement gives c nothing: %v", after)
		}
		h := &recHooks{node: "c", tl: c.tl, prepared: map[int]int{}, block: make(chan struct{}), entered: make(chan int, c.partitions)}
		c.startWith("c", c.servers[0], h)
		for range moving {
			<-h.entered
		}
		// c is catching up and has not said it is ready: the old owners keep leading.
		for _, p := range moving {
			if !c.members[before[p]].Holds(p) {
				t.Fatalf("%s gave p%d up before c caught up", before[p], p)
			}
		}
		close(h.block)
		c.waitPlacement(after)
		for _, p := range moving {
			if n := h.prepareCalls(p); n != 2 {
				t.Errorf("p%d prepared %d times, want 2 (before and after the release)", p, n)
			}
		}
	})
	t.Run("drain moves partitions", func(t *testing.T) {
		ctx := context.Background()
		if err := c.members["a"].Drain(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		c.waitPlacement(c.expected("a", "c"))
		st := nodeStatus(t, c.members["c"], "b")
		if !st.Alive || !st.Draining || len(st.Partitions) != 0 {
			t.Fatalf("b after drain: %+v", st)
		}
		if got := c.members["b"].Counters(); got.Losses != 0 {
			t.Fatalf("b counters %+v: drain lost leases", got)
		}
		if err := c.members["a"].Drain(ctx, "nobody"); !errors.Is(err, ErrUnknownNode) {
			t.Fatalf("drain of an unknown node: %v", err)
		}
	})
	t.Run("graceful stop hands over at once", func(t *testing.T) {
		a := c.members["a"]
		held := uint64(len(nodeStatus(t, a, "a").Partitions))
		before := a.Counters()
		c.stop("a")
		c.waitPlacement(c.expected("c")) // b drains
		if got := a.Counters(); got.Releases-before.Releases != held || got.Losses != 0 {
			t.Fatalf("a's counters %+v (before %+v), want %d more releases", got, before, held)
		}
		leads, resigns := c.tl.count("a")
		if leads != resigns {
			t.Fatalf("a led %d times and resigned %d", leads, resigns)
		}
		for _, n := range c.members["c"].Nodes() {
			if n.NodeID == "a" {
				t.Fatalf("a still listed after Close: %+v", n)
			}
		}
	})
	t.Run("last node draining keeps serving", func(t *testing.T) {
		c.stop("b")
		if err := c.members["c"].Drain(context.Background(), "c"); err != nil {
			t.Fatal(err)
		}
		c.waitPlacement(c.expected("c"))
		for p := range c.partitions {
			if !c.members["c"].Holds(p) {
				t.Fatalf("c gave up p%d with nowhere to go", p)
			}
		}
	})
}

func nodeStatus(t *testing.T, m *Member, id string) NodeStatus {
	t.Helper()
	for _, n := range m.Nodes() {
		if n.NodeID == id {
			return n
		}
	}
	t.Fatalf("node %s not listed: %+v", id, m.Nodes())
	return NodeStatus{}
}

// TestFailover runs three servers with R3 buckets and a short TTL: a node whose server dies
// resigns on its own before its leases expire, and the others take its partitions after
// the TTL; a graceful stop hands over without waiting for it.
func TestFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("three servers")
	}
	servers := startServers(t, 3)
	c := newCluster(t, servers, 6, 2*time.Second)
	ids := []string{"a", "b", "c"}
	c.startAll(ids...)
	c.waitPlacement(c.expected(ids...))

	// Kill: a's server goes away with a's member still running; it can renew nothing.
	aHeld := len(nodeStatus(t, c.members["b"], "a").Partitions)
	if aHeld == 0 {
		t.Fatalf("a holds nothing to take over: %v", c.expected(ids...))
	}
	_, resignsBefore := c.tl.count("a")
	lossesBefore := c.members["a"].Counters().Losses
	killed := time.Now()
	servers[0].Close()
	c.waitFor("a resigns everything", func() bool {
		_, resigns := c.tl.count("a")
		return resigns-resignsBefore == aHeld
	})
	a := c.members["a"]
	delete(c.members, "a") // its Close can release nothing; it runs after the takeover
	// Figures, not bounds: how long the partitions of a went without an owner, and how
	// long until every member's view (Owner, Partitions) showed the new owners.
	c.waitFor("b and c lead a's partitions", func() bool {
		return slices.Equal(c.tl.leaders(c.partitions), c.expected("b", "c"))
	})
	t.Logf("kill: every partition led again %v after a's server stopped (lease TTL %v)", time.Since(killed), c.ttl)
	c.waitPlacement(c.expected("b", "c"))
	t.Logf("kill: every view shows the new owners %v after a's server stopped", time.Since(killed))
	if got := a.Counters(); got.Losses-lossesBefore != uint64(aHeld) {
		t.Errorf("a's counters after losing its server: %+v, want %d losses", got, aHeld)
	}
	a.Close()

	// Graceful stop of b: c takes everything; b's releases are counted, not losses. What b
	// holds is asked of b itself (its node record is only as fresh as its last heartbeat),
	// and a partition b acquires between that count and Close is released by Close too.
	b := c.members["b"]
	bBefore := b.Counters()
	var bHeld uint64
	for p := range c.partitions {
		if b.Holds(p) {
			bHeld++
		}
	}
	stopped := time.Now()
	c.stop("b")
	c.waitPlacement(c.expected("c"))
	t.Logf("graceful stop: every partition led again %v after b's Close began", time.Since(stopped))
	got := b.Counters()
	if want := bHeld + got.Acquisitions - bBefore.Acquisitions; got.Releases-bBefore.Releases != want || got.Losses != 0 {
		t.Errorf("b's counters after Close: %+v, before %+v, want %d more releases and no loss", got, bBefore, want)
	}
	if n := nodeStatus(t, c.members["c"], "c"); len(n.Partitions) != c.partitions {
		t.Fatalf("c holds %v", n.Partitions)
	}
}

// waitFor waits until cond holds, checking all along that no two members hold a partition.
func (c *cluster) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		c.checkSingleHolder()
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: not within %v", what, guard)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKillOneServer runs on one server with R1 buckets, each member on its own connection:
// a member whose connection is cut can renew nothing, resigns before its leases could
// expire, and the others take its partitions after the TTL.
func TestKillOneServer(t *testing.T) {
	servers := startServers(t, 1)
	c := newCluster(t, servers, 6, time.Second)
	conns := map[string]*natsnode.Node{}
	for _, id := range []string{"a", "b", "c"} {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		n, err := natsnode.Start(ctx, natsnode.Options{Name: id, URL: servers[0].ClientURL()})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		conns[id] = n
		c.startWith(id, n, &recHooks{node: id, tl: c.tl, prepared: map[int]int{}})
	}
	c.waitPlacement(c.expected("a", "b", "c"))
	for round, victim := range []string{"a", "b"} {
		m := c.members[victim]
		held := uint64(len(nodeStatus(t, m, victim).Partitions))
		before := m.Counters()
		conns[victim].Close()
		c.waitFor(victim+" resigns", func() bool { return m.Counters().Losses-before.Losses == held })
		delete(c.members, victim)
		live := []string{"a", "b", "c"}[round+1:]
		c.waitPlacement(c.expected(live...))
		m.Close()
	}
}

// TestStartRefusesReplicasTheServerCannotHave: R3 buckets on a lone server fail at once with
// the server's reason rather than being retried until the context ends.
func TestStartRefusesReplicasTheServerCannotHave(t *testing.T) {
	servers := startServers(t, 1)
	c := newCluster(t, servers, 3, longTTL)
	cfg := c.config("a")
	cfg.Replicas = 3
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	m, err := Start(ctx, servers[0].JetStream(), cfg, &recHooks{node: "a", tl: c.tl, prepared: map[int]int{}}, nil)
	if err == nil {
		m.Close()
		t.Fatal("started with R3 buckets on one server")
	}
	if errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), BucketCluster) {
		t.Fatalf("err = %v: want the server's refusal, naming the bucket", err)
	}
}

// TestRefuseHandsPartitionBack: a holder that refuses its partition resigns and releases
// it, another node takes it while the refusal lasts, it comes back once the refusal ends,
// and a partition every live node refuses still gets an owner. No two holders at once
// all along (waitPlacement checks).
func TestRefuseHandsPartitionBack(t *testing.T) {
	c := newCluster(t, startServers(t, 1), 8, longTTL)
	c.start("a", 0)
	c.start("b", 0)
	placed := c.expected("a", "b")
	c.waitPlacement(placed)
	p := slices.Index(placed, "a")
	if p < 0 {
		t.Fatalf("placement gives a nothing: %v", placed)
	}
	a, b := c.members["a"], c.members["b"]
	before := a.Counters()

	if err := a.Refuse(p, guard); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(placed)
	want[p] = "b"
	c.waitPlacement(want)
	if got := a.Counters(); got.Releases != before.Releases+1 || got.Losses != before.Losses {
		t.Errorf("a's counters after Refuse: %+v, before %+v: want one release", got, before)
	}
	b.mu.Lock()
	refused := b.view.nodes["a"].Refused
	b.mu.Unlock()
	if !slices.Equal(refused, []int{p}) {
		t.Errorf("a's record as b sees it refuses %v, want [%d]", refused, p)
	}

	// A refusal that has ended leaves the record: placement gives p back to a.
	if err := a.Refuse(p, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	c.waitPlacement(placed)

	// Refused by every live node: placement ignores the refusals.
	for _, m := range []*Member{a, b} {
		if err := m.Refuse(p, guard); err != nil {
			t.Fatal(err)
		}
	}
	c.waitPlacement(placed)

	if err := a.Refuse(c.partitions, time.Second); err == nil {
		t.Error("Refuse of a partition the cluster does not have: no error")
	}
}
