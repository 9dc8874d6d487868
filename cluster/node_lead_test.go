package cluster

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// TestNodeHandsBackAPartitionItCannotLead: node A holds every partition, but its last
// catch-up before leading partition 0 keeps failing (injected). A retries, then hands the
// lease back rather than keep partition 0 unserved; node B, started meanwhile, takes it
// and serves its writes, A forwards to B, A never serves it, and at no sampled moment do
// both hold its lease.
func TestNodeHandsBackAPartitionItCannotLead(t *testing.T) {
	url := testNATS(t)
	injected := errors.New("injected: catch-up failed")
	var attempts atomic.Int64
	a, _ := startNodeWith(t, "node-a", url, func(p int) error {
		if p == 0 {
			attempts.Add(1)
			return injected
		}
		return nil
	})
	eventually(t, "node-a to lead partitions 1 and 2", func() bool { return leads(a, 1, 2) })
	eventually(t, "node-a to hand partition 0 back", func() bool { return a.member.Counters().Releases > 0 })
	if n := attempts.Load(); n < 2 {
		t.Errorf("node-a tried to lead partition 0 %d times before handing it back, want retries", n)
	}

	var bNode atomic.Pointer[Node]
	stop, sampled := make(chan struct{}), make(chan int)
	go func() {
		samples := 0
		defer func() { sampled <- samples }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			samples++
			if a.member.Holds(0) && a.parts[0].leading() != nil {
				t.Error("node-a serves partition 0 although leading it failed")
			}
			if b := bNode.Load(); b != nil && a.member.Holds(0) && b.member.Holds(0) {
				t.Error("node-a and node-b hold partition 0 at once")
			}
		}
	}()
	b, eb := startNode(t, "node-b", url)
	bNode.Store(b)
	eventually(t, "node-b to lead partition 0", func() bool { return leads(b, 0) })

	// Two spaces of partition 0: what is written to one is not seen in the other.
	var spaces []string
	for i := 0; len(spaces) < 2; i++ {
		if id := fmt.Sprintf("tenant-%d", i); PartitionOf(id, testPartitions) == 0 {
			spaces = append(spaces, id)
		}
	}
	id, err := rememberIn(eb, spaces[0], "served by node-b")
	if err != nil {
		t.Fatalf("remember in %s (partition 0) at node-b: %v", spaces[0], err)
	}
	if _, err := rememberIn(eb, spaces[1], "another tenant"); err != nil {
		t.Fatalf("remember in %s at node-b: %v", spaces[1], err)
	}
	if s, err := eb.Space(spaces[1]); err != nil {
		t.Fatal(err)
	} else if _, err := s.Get(id); err == nil {
		t.Errorf("%s of %s visible in %s", id, spaces[0], spaces[1])
	}
	eventually(t, "node-a to route partition 0 to node-b", func() bool {
		o, local, err := a.Route(spaces[0])
		return err == nil && !local && o.NodeID == "node-b"
	})
	close(stop)
	if n := <-sampled; n == 0 {
		t.Error("no sample taken")
	}
}
