package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
)

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// TestThreeNodesR3 runs three nodes, each embedding a NATS server of one cluster, with
// replicated (R3) streams: writes are spread over the owners, the owner of the most
// partitions is then cut off abruptly (its NATS server and connection stop, no lease is
// released), and the two others take its partitions and serve every acknowledged write.
func TestThreeNodesR3(t *testing.T) {
	if testing.Short() {
		t.Skip("three embedded NATS servers")
	}
	ports := freePorts(t, 3)
	ids := []string{"node-a", "node-b", "node-c"}
	nodes := make([]*Node, 3)
	engines := make([]*engine.Engine, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		var routes []string
		for j, p := range ports {
			if j != i {
				routes = append(routes, fmt.Sprintf("127.0.0.1:%d", p))
			}
		}
		e, err := engine.Open(engine.Config{DataRoot: t.TempDir(), AutoCreate: true, Replicated: true,
			Defaults: engine.SpaceSettings{Dimension: 16}, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		engines[i] = e
		cfg := Config{Enabled: true, NodeID: ids[i], AdvertiseHTTP: ids[i] + ":8080", Partitions: testPartitions,
			Replicas: 3, LeaseTTL: 3 * time.Second,
			NATS: NATSConfig{Listen: "127.0.0.1:0", ClusterListen: fmt.Sprintf("127.0.0.1:%d", ports[i]), Routes: routes,
				StoreDir: t.TempDir(), Sync: SyncAlways}}
		wg.Go(func() { // a server waits for a quorum of its peers before JetStream answers
			// Right after the servers form a cluster, a replica may answer a read of the
			// cluster bucket before it has the key another node just created; such a start
			// fails and is tried again, as an operator (or a supervisor) would.
			var err error
			for attempt := 0; attempt < 3; attempt++ {
				var n *Node
				if n, err = Start(context.Background(), cfg, e, quietLogger()); err == nil {
					nodes[i] = n
					return
				}
				t.Logf("%s: start attempt %d: %v", cfg.NodeID, attempt+1, err)
			}
			t.Error(err)
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, n := range nodes {
		t.Cleanup(func() { n.Close() })
	}
	leader := func(p int) int {
		for i, n := range nodes {
			if n != nil && leads(n, p) {
				return i
			}
		}
		return -1
	}
	eventually(t, "every partition led", func() bool {
		for p := range testPartitions {
			if leader(p) < 0 {
				return false
			}
		}
		return true
	})

	spaces := make([]string, 9)
	for i := range spaces {
		spaces[i] = fmt.Sprintf("tenant-%d", i)
	}
	// leaderOf waits for a node to lead space's partition: right after the nodes start, and
	// after the cut, partitions move between nodes until placement settles.
	leaderOf := func(space string) int {
		i := -1
		eventually(t, space+" led", func() bool { i = leader(PartitionOf(space, testPartitions)); return i >= 0 })
		return i
	}
	// writeAtLeader remembers text in space at its partition's leader, asking again when
	// the partition moved meanwhile. A refusal of unknown outcome may have stored the write
	// after all; the test counts only acknowledged ids, so a second copy is harmless here.
	writeAtLeader := func(space, text string) string {
		for attempt := 0; ; attempt++ {
			i := leaderOf(space)
			id, err := rememberIn(engines[i], space, text)
			if errors.Is(err, engine.ErrNotOwner) && attempt < 200 {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			if err != nil {
				t.Fatalf("remember in %s on %s: %v", space, ids[i], err)
			}
			return id
		}
	}
	acked := map[string][]string{}
	for round := range 3 {
		for _, space := range spaces {
			acked[space] = append(acked[space], writeAtLeader(space, fmt.Sprintf("%s round %d", space, round)))
		}
	}

	// Cut off the node leading the most partitions.
	count := make([]int, 3)
	for p := range testPartitions {
		count[leader(p)]++
	}
	victim := 0
	for i := range count {
		if count[i] > count[victim] {
			victim = i
		}
	}
	nodes[victim].nats.Close()
	survivors := []int{}
	for i := range 3 {
		if i != victim {
			survivors = append(survivors, i)
		}
	}
	defer func() {
		if t.Failed() {
			for _, i := range survivors {
				t.Logf("%s sees %+v", ids[i], nodes[i].Status(context.Background()))
			}
		}
	}()
	eventually(t, "the survivors to lead every partition", func() bool {
		for p := range testPartitions {
			if i := leader(p); i < 0 || i == victim {
				return false
			}
		}
		return true
	})
	if _, err := rememberIn(engines[victim], spaces[0], "written on the cut-off node"); !errors.Is(err, engine.ErrNotOwner) {
		t.Fatalf("write on the cut-off node: %v, want engine.ErrNotOwner", err)
	}
	for si, space := range spaces {
		i := leaderOf(space)
		s, err := engines[i].Space(space)
		if err != nil {
			t.Fatalf("%s on %s: %v", space, ids[i], err)
		}
		other, err := engines[i].Space(spaces[(si+3)%len(spaces)])
		if err != nil && !errors.Is(err, engine.ErrSpaceNotFound) && !errors.Is(err, engine.ErrNotOwner) {
			t.Fatal(err)
		}
		for _, id := range acked[space] {
			if _, err := s.Get(id); err != nil {
				t.Errorf("%s on %s: acknowledged %s lost: %v", space, ids[i], id, err)
			}
			if other != nil {
				if _, err := other.Get(id); err == nil {
					t.Errorf("%s of %s visible in %s", id, space, other.ID())
				}
			}
		}
		writeAtLeader(space, space+" after the takeover")
	}
}
