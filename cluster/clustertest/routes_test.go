package clustertest

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// TestProxiesCutNATSRoutes runs three NATS servers routed through the harness's proxies,
// as the nodes are, and checks that cutting one off leaves it without routes and the
// other two still routed to each other: a route a server dialed around the proxies, from
// gossip, is severed.
func TestProxiesCutNATSRoutes(t *testing.T) {
	c := &Cluster{}
	for i := range 3 {
		g, err := newGate()
		if err != nil {
			t.Fatal(err)
		}
		c.gates = append(c.gates, g)
		c.nodes = append(c.nodes, &Node{ID: "n" + strconv.Itoa(i+1), Route: g.Target()})
	}
	defer c.Close()
	servers := make([]*server.Server, 3)
	for i, n := range c.nodes {
		host, port, _ := net.SplitHostPort(n.Route)
		p, _ := strconv.Atoi(port)
		var routes []string
		for j, g := range c.gates {
			if j != i {
				routes = append(routes, "nats-route://"+g.Addr())
			}
		}
		s, err := server.NewServer(&server.Options{ServerName: n.ID, Host: "127.0.0.1", Port: server.RANDOM_PORT, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "clustertest", Host: host, Port: p}, Routes: server.RoutesFromStr(strings.Join(routes, ","))})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		defer s.Shutdown()
		servers[i] = s
	}
	connected := func(i int) int { return len(peersOf(servers[i])) }
	waitFor(t, "every server routed to both peers", func() bool { return connected(0) == 2 && connected(1) == 2 && connected(2) == 2 })

	for round := range 2 { // a second cut after a heal: routes made by gossip go through the gates too
		c.CutOff(c.nodes[0])
		waitFor(t, "n1 cut off, n2 and n3 still routed", func() bool { return connected(0) == 0 && connected(1) == 1 && connected(2) == 1 })
		// Reconnect attempts and gossip have time to find a way around the gates; none may.
		time.Sleep(3 * time.Second)
		if got := peersOf(servers[0]); len(got) != 0 {
			t.Fatalf("round %d: n1 reached %v while cut off", round, got)
		}
		c.Heal(c.nodes[0])
		waitFor(t, "n1 routed again after the heal", func() bool { return connected(0) == 2 && connected(1) == 2 && connected(2) == 2 })
	}
}

// peersOf lists the names of the servers s has a route to.
func peersOf(s *server.Server) []string {
	rz, err := s.Routez(nil)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range rz.Routes {
		if !seen[r.RemoteName] {
			seen[r.RemoteName] = true
			out = append(out, r.RemoteName)
		}
	}
	return out
}

// waitFor polls cond until it holds; it fails the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for: %s", what)
		}
	}
}
