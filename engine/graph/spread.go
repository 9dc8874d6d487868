package graph

// Seed is a node where activation starts, typically a direct match of the cue.
type Seed struct {
	Node       uint32
	Activation float32
}

// Activated is a node reached by a Spread. Path runs from the seed to Node inclusive;
// a seed has Hops 0 and Path [seed].
type Activated struct {
	Node       uint32
	Activation float32
	Hops       int
	Path       []uint32
}

// Result is the outcome of a Spread. Nodes are sorted by Activation descending, then
// Node ascending. Hops is the number of rounds that raised at least one activation;
// Visited the number of node expansions spent from the Budget.
type Result struct {
	Nodes   []Activated
	Hops    int
	Visited int
}

// Spread propagates activation from seeds over the graph and returns every node whose
// activation reached p.Threshold, seeds included.
//
// A node reached over an edge of weight w from a parent with activation a is offered
// a × p.Decay × w and keeps the largest activation offered to it, with the path that
// offered it. Propagation is level-synchronous: round h expands the nodes whose
// activation rose in round h-1 (the seeds for round 1), so only a rise is ever
// propagated and no path is longer than p.MaxHops. Within a round the frontier is
// expanded strongest first, following each node's p.MaxFanout strongest edges, and the
// call stops once p.Budget expansions have been made. A node whose activation × Decay
// is under the threshold could raise nothing and is not expanded (nor counted as a
// visit). Seeds keep their own activation unless p.RaiseSeeds lets a stronger offer raise
// them like any other node.
// Nodes for which accept returns false are neither reported nor propagated through;
// accept is called at most once per node and call, and a nil accept admits every node.
//
// Spread takes no lock: it may run concurrently with other Spreads and with writers.
func (g *Graph) Spread(seeds []Seed, p Params, accept func(uint32) bool) Result {
	p = p.normalized()
	s, _ := g.pool.Get().(*scratch)
	if s == nil {
		s = &scratch{}
	}
	defer g.pool.Put(s)
	s.begin(int(g.limit.Load()))

	for _, sd := range seeds {
		if !(sd.Activation >= p.Threshold) {
			continue
		}
		st := s.touch(sd.Node, accept)
		switch {
		case st.flags&flagRejected != 0:
		case st.flags&flagSeed != 0:
			st.act = max(st.act, sd.Activation)
		default:
			st.flags |= flagSeed
			s.record(sd.Node, st, sd.Activation, noParent)
		}
	}
	s.setFrontier(g, s.touched, p, p.Budget)

	res := Result{}
	for round := 1; len(s.frontier) > 0; round++ {
		token := s.tick()
		s.next = s.next[:0]
		for _, f := range s.frontier {
			s.expand(f, p, token, accept)
		}
		res.Visited += len(s.frontier)
		if len(s.next) == 0 {
			break
		}
		res.Hops = round
		if round == p.MaxHops {
			break
		}
		s.setFrontier(g, s.next, p, p.Budget-res.Visited)
	}
	res.Nodes = s.collect()
	return res
}

// expand offers f's activation to its strongest neighbours. The offers are computed for
// the whole fanout block at once; weights are sorted descending, so the first offer
// under the threshold ends the block.
func (s *scratch) expand(f frontierEntry, p Params, token uint32, accept func(uint32) bool) {
	adj := f.edges
	k := min(len(adj.to), p.MaxFanout)
	if k == 0 {
		return
	}
	offers := s.contributions(k)
	scaleInto(offers, adj.weight[:k], f.act*p.Decay)
	for i, n := range adj.to[:k] {
		a := offers[i]
		if a < p.Threshold {
			return
		}
		st := s.touch(n, accept)
		if st.flags&flagRejected != 0 || (st.flags&flagSeed != 0 && !p.RaiseSeeds) || a <= st.act {
			continue // rejected, a seed kept as given, or already at least as active
		}
		s.record(n, st, a, f.raise)
		if st.queued != token {
			st.queued = token
			s.next = append(s.next, n)
		}
	}
}

// collect builds the sorted result, with all paths sharing one backing array.
func (s *scratch) collect() []Activated {
	if len(s.touched) == 0 {
		return nil
	}
	total := 0
	for _, n := range s.touched {
		total += int(s.raises[s.nodes[n].last].hops) + 1
	}
	paths := make([]uint32, total)
	out := make([]Activated, len(s.touched))
	for i, key := range s.rankOrder(s.touched) {
		n := uint32(key)
		st := &s.nodes[n]
		r := st.last
		hops := int(s.raises[r].hops)
		path := paths[: hops+1 : hops+1]
		paths = paths[hops+1:]
		for j := hops; j >= 0; j-- {
			path[j] = s.raises[r].node
			r = s.raises[r].parent
		}
		out[i] = Activated{Node: n, Activation: st.act, Hops: hops, Path: path}
	}
	return out
}
