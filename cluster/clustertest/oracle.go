package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Memory is one memory as a view holds it.
type Memory struct {
	Space, ID, Content string
	// Where the stream view found its record: partition and stream sequence.
	Partition int
	Seq       uint64
}

// View is what one reader sees of the load's spaces: every memory it lists, repeats kept.
type View struct {
	Name     string
	Memories []Memory
	// Missing are acknowledged ids a direct read by id did not find (HTTP view only).
	Missing []Ack
	// Foreign are acknowledged ids a read in another space found: isolation broken.
	Foreign []Ack
	// Rerecorded counts frames a space already had, repeated byte for byte (stream view
	// only): harmless for the state, but a sign the log holds a write twice.
	Rerecorded int
	// Conflicts counts frames under an LSN the space already had with another record: two
	// writers of one partition (stream view only).
	Conflicts int
	// WrongPartition counts sections in a partition stream other than their space's.
	WrongPartition int
	examples       []string
}

// Verdict is the oracle's judgement of one view against the load's record.
type Verdict struct {
	View       string
	Acked      int // acknowledged writes
	Present    int // memories in the view written by the load
	Lost       int // acknowledged, absent from the view (listed or read by id)
	Duplicated int // a key stored as two memories, or one memory listed twice
	Stale      int // reads that missed an earlier acknowledgement (the load's readers)
	Misplaced  int // a memory seen in a space it was not written to, or a space in another partition's stream
	Conflicts  int // records of two writers under one LSN
	Phantom    int // a memory of the load's form whose key was never written
	Unseen     int // writes acknowledged within an SSE stream that was not cut, without its event
	Unresolved int // writes never acknowledged nor refused: either outcome is allowed
	Rerecorded int
	Examples   []string // up to ten cases, for the failure message
}

// OK reports whether every invariant holds.
func (v Verdict) OK() bool {
	return v.Lost == 0 && v.Duplicated == 0 && v.Stale == 0 && v.Misplaced == 0 && v.Phantom == 0 && v.Conflicts == 0 && v.Unseen == 0
}

func (v Verdict) String() string {
	return fmt.Sprintf("%s: acked %d, present %d, lost %d, duplicated %d, stale %d, misplaced %d, phantom %d, conflicts %d, unseen events %d, unresolved %d, rerecorded %d",
		v.View, v.Acked, v.Present, v.Lost, v.Duplicated, v.Stale, v.Misplaced, v.Phantom, v.Conflicts, v.Unseen, v.Unresolved, v.Rerecorded)
}

func (v *Verdict) example(format string, args ...any) {
	if len(v.Examples) < 10 {
		v.Examples = append(v.Examples, fmt.Sprintf(format, args...))
	}
}

// Judge compares a view with what the load did.
func Judge(r *Result, view View) Verdict {
	v := Verdict{View: view.Name, Acked: len(r.Acks), Stale: len(r.Stale), Unresolved: len(r.Unresolved), Rerecorded: view.Rerecorded,
		Conflicts: view.Conflicts, Misplaced: view.WrongPartition}
	for _, e := range view.examples {
		v.example("%s", e)
	}
	for _, e := range r.Events {
		if n := e.Missed - e.MissedCut; n > 0 {
			v.Unseen += n
			v.example("unseen: %d writes to %s acknowledged within an SSE stream that stayed open sent no event through it", n, e.Space)
		}
	}
	for _, a := range r.GRPCRecall.Foreign {
		v.Misplaced++
		v.example("isolation: a gRPC recall in %s answered a memory of another space", a.Space)
	}
	for _, s := range r.Stale {
		v.example("stale: %s/%s read at %s %v after its ack", s.Space, s.ID, s.Node, s.ReadAt.Sub(s.AckedAt))
	}
	seen := make(map[string]int)                 // space/id → occurrences
	idsOfKey := make(map[string]map[string]bool) // key → ids
	for _, m := range view.Memories {
		space, key, ok := parseContent(m.Content)
		if !ok {
			continue // not the load's: spaces of the load hold nothing else, other spaces are not judged
		}
		v.Present++
		if space != m.Space {
			v.Misplaced++
			v.example("misplaced: %s written to %s seen in %s", m.ID, space, m.Space)
		}
		if _, written := r.Attempted[key]; !written {
			v.Phantom++
			v.example("phantom: %s/%s key %s never written", m.Space, m.ID, key)
		}
		sid := m.Space + "/" + m.ID
		if seen[sid]++; seen[sid] == 2 {
			v.Duplicated++
			v.example("duplicated: %s listed twice", sid)
		}
		if idsOfKey[key] == nil {
			idsOfKey[key] = make(map[string]bool)
		}
		if idsOfKey[key][m.ID] = true; len(idsOfKey[key]) == 2 {
			v.Duplicated++
			v.example("duplicated: key %s stored as two memories", key)
		}
	}
	missing := make(map[string]bool)
	for _, a := range view.Missing {
		missing[a.Key] = true
	}
	for _, a := range r.Acks {
		if seen[a.Space+"/"+a.ID] == 0 || missing[a.Key] {
			v.Lost++
			v.example("lost: %s/%s key %s acknowledged by %s at %s", a.Space, a.ID, a.Key, a.Node, a.End.Format(time.RFC3339Nano))
		}
	}
	for _, a := range view.Foreign {
		v.Misplaced++
		v.example("isolation: %s of %s found from another space", a.ID, a.Space)
	}
	sort.Strings(v.Examples)
	return v
}

// HTTPView lists every space of the load at rotating nodes and reads every acknowledged
// memory by id at a random node (a node that does not own it forwards), plus a sample by
// id from another space, which must not find it. Answers without an outcome (timeouts,
// 503 while a partition moves) are retried until ctx ends.
func HTTPView(ctx context.Context, c *Cluster, r *Result) (View, error) {
	return HTTPViewAt(ctx, "http", c.Serving(), r)
}

// HTTPViewAt is HTTPView with every list and read sent to one of nodes: given one node,
// it is that node's view, forwards included.
func HTTPViewAt(ctx context.Context, name string, nodes []*Node, r *Result) (View, error) {
	view := View{Name: name}
	hc := &http.Client{Timeout: 10 * time.Second}
	if len(nodes) == 0 {
		return view, fmt.Errorf("clustertest: no node serving to read from")
	}
	for i, space := range r.Spaces {
		ms, err := listSpace(ctx, hc, nodes[i%len(nodes)], space)
		if err != nil {
			return view, err
		}
		view.Memories = append(view.Memories, ms...)
	}
	var mu sync.Mutex
	var firstErr error
	work := make(chan int)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range work {
				a := r.Acks[i]
				found, err := readByID(ctx, hc, nodes[rng.IntN(len(nodes))], a.Space, a.ID)
				var foreign bool
				if err == nil && i%10 == 0 {
					other := r.Spaces[(spaceIndex(r.Spaces, a.Space)+1)%len(r.Spaces)]
					foreign, err = readByID(ctx, hc, nodes[rng.IntN(len(nodes))], other, a.ID)
				}
				mu.Lock()
				switch {
				case err != nil:
					if firstErr == nil {
						firstErr = err
					}
				case !found:
					view.Missing = append(view.Missing, a)
				}
				if foreign {
					view.Foreign = append(view.Foreign, a)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range r.Acks {
		work <- i
	}
	close(work)
	wg.Wait()
	return view, firstErr
}

func spaceIndex(spaces []string, s string) int {
	for i, x := range spaces {
		if x == s {
			return i
		}
	}
	return 0
}

// readByID reads one memory, retrying unanswered attempts at the next node.
func readByID(ctx context.Context, hc *http.Client, n *Node, space, id string) (bool, error) {
	for {
		status, _, err := getMemory(ctx, hc, n, space, id)
		switch {
		case err == nil && status == http.StatusOK:
			return true, nil
		case err == nil && status == http.StatusNotFound:
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("clustertest: read %s/%s at %s: %w (last: %d %v)", space, id, n.ID, ctx.Err(), status, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// listSpace reads every page of GET /api/v1/memories in space at n.
func listSpace(ctx context.Context, hc *http.Client, n *Node, space string) ([]Memory, error) {
	var out []Memory
	for offset := 0; ; {
		var page struct {
			Memories []memoryJSON `json:"memories"`
		}
		if err := getJSON(ctx, hc, "http://"+n.HTTP+"/api/v1/memories?limit=1000&offset="+strconv.Itoa(offset), space, &page); err != nil {
			return nil, err
		}
		for _, m := range page.Memories {
			out = append(out, Memory{Space: space, ID: m.ID, Content: m.Content})
		}
		if len(page.Memories) < 1000 {
			return out, nil
		}
		offset += len(page.Memories)
	}
}

// getJSON decodes a 200 answer into out, retrying other answers until ctx ends.
func getJSON(ctx context.Context, hc *http.Client, u, space string, out any) error {
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("X-Memory-Space", space)
		resp, err := hc.Do(req)
		if err == nil {
			if resp.StatusCode == http.StatusOK {
				err = json.NewDecoder(resp.Body).Decode(out)
				resp.Body.Close()
				if err != nil {
					return fmt.Errorf("clustertest: GET %s: %w", u, err)
				}
				return nil
			}
			resp.Body.Close()
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("clustertest: GET %s (space %s): %w (last: %s)", u, space, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
