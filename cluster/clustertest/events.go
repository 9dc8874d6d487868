package clustertest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/engram-go/engram/cluster"
)

// A subscriber follows the storage events of one space over SSE
// (GET /api/v1/stream/activities), always at a node that does not own the space's
// partition, so that every event comes through the forwarding relay. When the stream
// ends it reconnects, at a non-owner again, asking for new events only: event ids and
// their buffer belong to the node that serves the space, so a new owner cannot resume
// the old one's ids.
type subscriber struct {
	space string
	c     *Cluster
	hc    *http.Client

	mu    sync.Mutex
	conns []connection
	seen  map[string]bool // memory ids of storage events received
	lag   int             // streams that ended with a "lagged" warning
}

// connection is one stream's life as the subscriber saw it: from its first bytes (the
// owner has subscribed by then) to its end. cut is false when the subscriber closed it
// itself at the end of the run.
type connection struct {
	node       string
	start, end time.Time
	cut        bool
}

func newSubscriber(c *Cluster, space string) *subscriber {
	return &subscriber{space: space, c: c, hc: &http.Client{}, seen: map[string]bool{}}
}

// run connects and reconnects until ctx ends.
func (s *subscriber) run(ctx context.Context, rng *rand.Rand) {
	for ctx.Err() == nil {
		n := s.nonOwner(ctx, rng)
		s.follow(ctx, n)
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// nonOwner is a random serving node other than the owner of the space's partition, as
// the lease bucket says now (any serving node when that cannot be read, or on a single
// node).
func (s *subscriber) nonOwner(ctx context.Context, rng *rand.Rand) *Node {
	nodes := s.c.Serving()
	if len(nodes) == 0 {
		nodes = s.c.Nodes()
	}
	if s.c.Single() {
		return nodes[rng.IntN(len(nodes))]
	}
	owners, err := s.c.Owners(ctx)
	if err == nil {
		owner := owners[cluster.PartitionOf(s.space, s.c.Partitions())]
		var others []*Node
		for _, n := range nodes {
			if n.ID != owner {
				others = append(others, n)
			}
		}
		if len(others) > 0 {
			nodes = others
		}
	}
	return nodes[rng.IntN(len(nodes))]
}

// follow reads one stream from n until it ends or ctx ends.
func (s *subscriber) follow(ctx context.Context, n *Node) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		"http://"+n.HTTP+"/api/v1/stream/activities?event_types=storage&space="+url.QueryEscape(s.space), nil)
	if err != nil {
		return
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := s.hc.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	conn := connection{node: n.ID}
	for sc.Scan() {
		line := sc.Text()
		if conn.start.IsZero() {
			conn.start = time.Now()
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Type     string `json:"event_type"`
			MemoryID string `json:"memory_id"`
			Reason   string `json:"reason"`
		}
		if json.Unmarshal([]byte(data), &ev) != nil {
			continue
		}
		s.mu.Lock()
		switch {
		case ev.Type == "storage" && ev.MemoryID != "":
			s.seen[ev.MemoryID] = true
		case ev.Reason == "lagged":
			s.lag++
		}
		s.mu.Unlock()
	}
	if conn.start.IsZero() {
		return
	}
	conn.end, conn.cut = time.Now(), ctx.Err() == nil
	s.mu.Lock()
	s.conns = append(s.conns, conn)
	s.mu.Unlock()
}

// EventCount is what one subscriber saw of its space's acknowledged writes.
type EventCount struct {
	Space     string
	Conns     int // streams opened
	Cut       int // of them, ended by the server side (an owner change, a node's death)
	Lagged    int
	Acked     int // acknowledged writes to the space
	Covered   int // begun and acknowledged within one stream's life
	Missed    int // of Covered, with no storage event received
	MissedCut int // of Missed, in a stream that was cut (an event in flight may be lost with it)
	Outside   int // acknowledged while no stream was open, or across a reconnection
	OutsideIn int // of Outside, whose event was received all the same
}

func (e *EventCount) add(o EventCount) {
	e.Conns += o.Conns
	e.Cut += o.Cut
	e.Lagged += o.Lagged
	e.Acked += o.Acked
	e.Covered += o.Covered
	e.Missed += o.Missed
	e.MissedCut += o.MissedCut
	e.Outside += o.Outside
	e.OutsideIn += o.OutsideIn
}

func (e EventCount) String() string {
	return fmt.Sprintf("SSE %s: %d streams (%d cut, %d lagged); %d writes acknowledged, %d within one stream, %d of them without event (%d in a cut stream); %d outside any stream (%d events received anyway)",
		e.Space, e.Conns, e.Cut, e.Lagged, e.Acked, e.Covered, e.Missed, e.MissedCut, e.Outside, e.OutsideIn)
}

// count judges the subscriber's events against the acknowledged writes to its space.
func (s *subscriber) count(acks []Ack) EventCount {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := EventCount{Space: s.space, Conns: len(s.conns), Lagged: s.lag}
	for _, c := range s.conns {
		if c.cut {
			e.Cut++
		}
	}
	for _, a := range acks {
		if a.Space != s.space {
			continue
		}
		e.Acked++
		var in *connection
		for i := range s.conns {
			if c := &s.conns[i]; !a.Start.Before(c.start) && a.End.Before(c.end) {
				in = c
				break
			}
		}
		switch {
		case in == nil:
			e.Outside++
			if s.seen[a.ID] {
				e.OutsideIn++
			}
		case !s.seen[a.ID]:
			e.Covered++
			e.Missed++
			if in.cut {
				e.MissedCut++
			}
		default:
			e.Covered++
		}
	}
	return e
}
