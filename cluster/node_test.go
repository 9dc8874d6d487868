package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/engram-go/engram/cluster/natsnode"
	"github.com/engram-go/engram/cluster/partlog"
	"github.com/engram-go/engram/engine"
)

func quietLogger() *slog.Logger {
	if os.Getenv("ENGRAM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// eventually polls cond until it holds; the test's own deadline bounds the wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if d, ok := t.Deadline(); ok && time.Until(d) < 5*time.Second {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testNATS runs a lone NATS server with JetStream that the test's nodes connect to by URL.
func testNATS(t *testing.T) string {
	t.Helper()
	n, err := natsnode.Start(context.Background(), natsnode.Options{
		Name: "nats-test", Listen: "127.0.0.1:0", StoreDir: t.TempDir(), SyncAlways: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n.ClientURL()
}

const testPartitions = 3

func startNode(t *testing.T, id, url string) (*Node, *engine.Engine) {
	t.Helper()
	return startNodeWith(t, id, url, nil)
}

// startNodeWith starts a node whose attempts to lead a partition first call beforeLead.
func startNodeWith(t *testing.T, id, url string, beforeLead func(p int) error) (*Node, *engine.Engine) {
	t.Helper()
	e, err := engine.Open(engine.Config{DataRoot: t.TempDir(), AutoCreate: true, Replicated: true,
		Defaults: engine.SpaceSettings{Dimension: 16}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	n, err := start(context.Background(), Config{Enabled: true, NodeID: id, AdvertiseHTTP: id + ":8080",
		AdvertiseGRPC: id + ":9090", Partitions: testPartitions, Replicas: 1, LeaseTTL: 2 * time.Second,
		NATS: NATSConfig{URL: url}}, e, quietLogger(), beforeLead)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n, e
}

// leads reports whether n leads every partition of ps.
func leads(n *Node, ps ...int) bool {
	for _, p := range ps {
		if n.parts[p].leading() == nil {
			return false
		}
	}
	return true
}

func allPartitions() []int {
	ps := make([]int, testPartitions)
	for i := range ps {
		ps[i] = i
	}
	return ps
}

func rememberIn(e *engine.Engine, space, text string) (string, error) {
	s, err := e.SpaceForWrite(space)
	if err != nil {
		return "", err
	}
	res, err := s.Remember(context.Background(), engine.Memory{Content: text, Confidence: 0.6}, engine.RememberOptions{})
	return res.Memory.ID, err
}

// TestNodeTakeoverServesEveryAcknowledgedWrite: node A writes, node B joins and takes its
// share, A is cut off without releasing anything, and B, once it holds every partition,
// serves every write either acknowledged, each in its own space only.
func TestNodeTakeoverServesEveryAcknowledgedWrite(t *testing.T) {
	url := testNATS(t)
	a, ea := startNode(t, "node-a", url)
	eventually(t, "node-a to lead every partition", func() bool { return leads(a, allPartitions()...) })

	spaces := make([]string, 8)
	for i := range spaces {
		spaces[i] = fmt.Sprintf("tenant-%d", i)
	}
	acked := map[string][]string{}
	write := func(round int) {
		for i, space := range spaces {
			for _, pair := range []struct {
				n *Node
				e *engine.Engine
			}{{a, ea}} {
				if _, local, _ := pair.n.Route(space); !local {
					continue
				}
				id, err := rememberIn(pair.e, space, fmt.Sprintf("%s round %d note %d", space, round, i))
				if err != nil {
					t.Fatalf("remember in %s on %s: %v", space, pair.n.ID(), err)
				}
				acked[space] = append(acked[space], id)
			}
		}
	}
	write(0)

	b, eb := startNode(t, "node-b", url)
	// Placement may leave every partition with A; either way each has a leader again.
	eventually(t, "every partition led", func() bool {
		for p := range testPartitions {
			if !leads(a, p) && !leads(b, p) {
				return false
			}
		}
		return true
	})
	for _, space := range spaces {
		o, local, err := a.Route(space)
		switch {
		case err != nil:
			t.Fatalf("route %s on node-a: %v", space, err)
		case local:
			id := mustRemember(t, ea, space, space+" written on A after B joined")
			acked[space] = append(acked[space], id)
		case o.NodeID != "node-b" || o.HTTP != "node-b:8080":
			t.Fatalf("route %s on node-a: owner %+v, want node-b", space, o)
		default:
			id := mustRemember(t, eb, space, space+" written on B")
			acked[space] = append(acked[space], id)
		}
	}

	// Each node lists every space of the cluster, those the other serves included.
	for _, n := range []*Node{a, b} {
		listed, err := n.ClusterSpaces(context.Background())
		if err != nil {
			t.Fatalf("spaces of the cluster at %s: %v", n.ID(), err)
		}
		for _, space := range spaces {
			if _, ok := slices.BinarySearch(listed, space); !ok {
				t.Errorf("%s lists %v, without %s", n.ID(), listed, space)
			}
		}
	}

	// A is cut off: its NATS connection goes, nothing is released. Its leases expire.
	a.nats.Close()
	eventually(t, "node-b to lead every partition", func() bool { return leads(b, allPartitions()...) })
	eventually(t, "node-a to stop leading", func() bool {
		for p := range testPartitions {
			if leads(a, p) {
				return false
			}
		}
		return true
	})
	if _, err := rememberIn(ea, spaces[0], "written on a node cut off"); !errors.Is(err, engine.ErrNotOwner) {
		t.Fatalf("write on the cut-off node: %v, want engine.ErrNotOwner", err)
	}

	for i, space := range spaces {
		if _, local, err := b.Route(space); err != nil || !local {
			t.Fatalf("route %s on node-b: local %v, %v", space, local, err)
		}
		s, err := eb.Space(space)
		if err != nil {
			t.Fatalf("%s on node-b: %v", space, err)
		}
		other, err := eb.Space(spaces[(i+1)%len(spaces)])
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range acked[space] {
			if _, err := s.Get(id); err != nil {
				t.Errorf("%s: acknowledged %s lost: %v", space, id, err)
			}
			if _, err := other.Get(id); !errors.Is(err, engine.ErrNotFound) {
				t.Errorf("%s of %s visible in %s: %v", id, space, other.ID(), err)
			}
		}
	}
	st := b.Status(context.Background())
	for _, ps := range st.Partitions {
		// The one message a leader may have in flight counts until its ack is read.
		if !ps.Leading || ps.Owner != "node-b" || ps.Lag > 1 || ps.Error != "" {
			t.Errorf("partition status on node-b: %+v", ps)
		}
	}
	mustRemember(t, eb, spaces[1], "node-b writes on")
}

func mustRemember(t *testing.T, e *engine.Engine, space, text string) string {
	t.Helper()
	id, err := rememberIn(e, space, text)
	if err != nil {
		t.Fatalf("remember in %s: %v", space, err)
	}
	return id
}

// TestNodeFencedCatchesUpAndLeadsAgain: a stale writer slips a message into a partition the
// node leads. The node's next write there is fenced (its writer gets ErrNotOwner, nothing
// of it is stored), then the node, still holding the lease, catches up with the stream,
// the stale message included, and writes on.
func TestNodeFencedCatchesUpAndLeadsAgain(t *testing.T) {
	url := testNATS(t)
	a, ea := startNode(t, "node-a", url)
	eventually(t, "node-a to lead every partition", func() bool { return leads(a, allPartitions()...) })
	const space = "tenant-x"
	p := PartitionOf(space, testPartitions)
	stale := ""
	for i := 0; stale == ""; i++ {
		if id := fmt.Sprintf("stale-%d", i); PartitionOf(id, testPartitions) == p {
			stale = id
		}
	}
	before := mustRemember(t, ea, space, "acknowledged before the stale write")
	otherSpace := ""
	for i := 0; otherSpace == ""; i++ {
		if id := fmt.Sprintf("elsewhere-%d", i); PartitionOf(id, testPartitions) != p {
			otherSpace = id
		}
	}
	elsewhere := mustRemember(t, ea, otherSpace, "in another partition")

	// The stale writer: a publisher that believes it leads p, fenced by the stream's end.
	last, err := partlog.LastSequence(context.Background(), a.js, p)
	if err != nil {
		t.Fatal(err)
	}
	w := partlog.StartPublisher(a.js, partlog.PublisherConfig{Partition: p, NodeID: "stale-node", LastSeq: last, Logger: quietLogger()})
	if err := w.Create(stale, engine.SpaceSettings{}); err != nil {
		t.Fatal(err)
	}
	w.Stop()

	for { // background records of the space may be the first to meet the fence
		id, err := rememberIn(ea, space, "meets the fence")
		if errors.Is(err, engine.ErrNotOwner) {
			break
		}
		if err != nil {
			t.Fatalf("write into the fenced partition: %v, want engine.ErrNotOwner", err)
		}
		t.Logf("write %s acknowledged before the fence was met", id)
		if !leads(a, p) {
			break
		}
	}
	eventually(t, "node-a to lead the partition again", func() bool { return leads(a, p) })
	after := mustRemember(t, ea, space, "written after the catch-up")
	if _, err := ea.Space(stale); err != nil {
		t.Fatalf("the stale writer's space was not caught up: %v", err)
	}
	s, err := ea.Space(space)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{before, after} {
		if _, err := s.Get(id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	if _, err := s.Get(elsewhere); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("%s of %s visible in %s: %v", elsewhere, otherSpace, space, err)
	}
	o, err := ea.Space(otherSpace)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Get(elsewhere); err != nil {
		t.Errorf("the other partition's space lost %s: %v", elsewhere, err)
	}
}
