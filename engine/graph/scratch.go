package graph

import "math"

// Per-node flags recorded the first time a Spread touches a node.
const (
	flagRejected uint8 = 1 << iota // accept returned false: never raised, reported or expanded
	flagSeed                       // a seed: keeps its seed activation and path
)

// noParent ends a path in the raise log.
const noParent = math.MaxUint32

// raise is one entry of the raise log: node got a new, higher activation through the
// raise at index parent. Entries are never rewritten, so following parents from any
// entry yields exactly the path that produced that entry's activation, even when nodes
// on it were raised again later.
type raise struct {
	node   uint32
	parent uint32
	hops   uint32
}

// frontierEntry is a node to expand in the current round, with the activation and raise
// it had when the round began, and its edges.
type frontierEntry struct {
	node  uint32
	act   float32
	raise uint32
	edges adjacency
}

// nodeState is what one Spread knows about one node. The fields live together so that
// touching a node costs one cache line, whatever the size of the graph.
type nodeState struct {
	stamp  uint32 // == scratch.epoch ⇒ the other fields are valid for this call
	queued uint32 // == the current round's clock ⇒ already in the next frontier
	act    float32
	last   uint32 // index in raises of the current activation
	flags  uint8
}

// scratch is the per-call working state of Spread, pooled per graph. Node states are
// validated by stamps instead of being cleared, so a call costs time in the nodes it
// touches, not in the size of the graph.
type scratch struct {
	clock uint32 // advanced once per call and once per round
	epoch uint32 // clock value of the current call
	nodes []nodeState

	raises   []raise
	touched  []uint32 // nodes with an activation this call, in first-raise order
	frontier []frontierEntry
	next     []uint32
	blocks   []*uint32 // frontier nodes' blocks, gathered before their views
	keys     []uint64  // sort keys, see rankKey
	keyBuf   []uint64  // second buffer of the radix sort
	contrib  []float32 // per-node offers: weight × parent activation × decay
}

// begin starts a call over node ids below limit.
func (s *scratch) begin(limit int) {
	s.grow(limit)
	s.epoch = s.tick()
	s.raises = s.raises[:0]
	s.touched = s.touched[:0]
	s.frontier = s.frontier[:0]
	s.next = s.next[:0]
}

// tick advances the clock. On wrap-around every stamp is cleared so that no stale value
// can match a reused clock value.
func (s *scratch) tick() uint32 {
	s.clock++
	if s.clock == 0 {
		clear(s.nodes)
		s.clock = 1
	}
	return s.clock
}

// grow makes the node states cover node ids below limit.
func (s *scratch) grow(limit int) {
	if limit <= len(s.nodes) {
		return
	}
	n := max(limit, 2*len(s.nodes))
	s.nodes = append(s.nodes, make([]nodeState, n-len(s.nodes))...)
}

// touch makes n's state valid for this call, consulting accept once per node, and
// returns it. Nodes beyond the states (linked after the call began) grow them.
func (s *scratch) touch(n uint32, accept func(uint32) bool) *nodeState {
	if int(n) >= len(s.nodes) {
		s.grow(int(n) + 1)
	}
	st := &s.nodes[n]
	if st.stamp == s.epoch {
		return st
	}
	*st = nodeState{stamp: s.epoch}
	if accept != nil && !accept(n) {
		st.flags = flagRejected
	}
	return st
}

// record appends a raise of n through parent and makes it n's current activation.
func (s *scratch) record(n uint32, st *nodeState, act float32, parent uint32) {
	hops := uint32(0)
	if parent != noParent {
		hops = s.raises[parent].hops + 1
	}
	if st.act == 0 {
		s.touched = append(s.touched, n)
	}
	st.act = act
	st.last = uint32(len(s.raises))
	s.raises = append(s.raises, raise{node: n, parent: parent, hops: hops})
}

// contributions returns a buffer of k floats.
func (s *scratch) contributions(k int) []float32 {
	if cap(s.contrib) < k {
		s.contrib = make([]float32, k)
	}
	return s.contrib[:k]
}

// rankKey orders by activation descending, then node ascending, as one unsigned
// comparison: activations are positive, so their IEEE bits order like their values.
func rankKey(act float32, node uint32) uint64 {
	return uint64(^math.Float32bits(act))<<32 | uint64(node)
}

// rankOrder returns nodes sorted by their current activation descending, then id
// ascending. The returned slice is reused by the next call.
func (s *scratch) rankOrder(nodes []uint32) []uint64 {
	s.keys = s.keys[:0]
	for _, n := range nodes {
		s.keys = append(s.keys, rankKey(s.nodes[n].act, n))
	}
	s.keys, s.keyBuf = sortKeys(s.keys, s.keyBuf)
	return s.keys
}

// setFrontier makes nodes, ranked strongest first, the frontier of the next round,
// snapshotting their activation and raise. Nodes whose best possible offer, over a
// weight of 1, is under p.Threshold are left out: expanding them could raise nothing. At most limit nodes, the number of expansions left in the budget, are kept.
//
// The edges of all frontier nodes are looked up here, in passes of independent loads,
// rather than one node at a time during expansion: the blocks are scattered over the
// heap, and a processor overlaps independent cache misses but not dependent ones.
func (s *scratch) setFrontier(g *Graph, nodes []uint32, p Params, limit int) {
	s.frontier = s.frontier[:0]
	s.blocks = s.blocks[:0]
	for _, k := range s.rankOrder(nodes) {
		n := uint32(k)
		st := &s.nodes[n]
		if st.act*p.Decay < p.Threshold || len(s.frontier) == limit {
			break // ranked: every later node is weaker still, or over budget
		}
		s.blocks = append(s.blocks, g.load(n))
		s.frontier = append(s.frontier, frontierEntry{node: n, act: st.act, raise: st.last})
	}
	for i, b := range s.blocks {
		s.frontier[i].edges = view(b)
	}
}
