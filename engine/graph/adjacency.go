package graph

import "unsafe"

// A node's edges are published as one immutable block of uint32 words:
//
//	[0]            n, the number of edges (never 0: a node without edges has no block)
//	[1, 1+n)       targets
//	[1+n, 1+2n)    weights, IEEE float32 bits
//	[1+2n, ...)    kinds, one byte each, packed four to a word
//
// One allocation per node keeps the count, targets and weights on adjacent cache lines,
// so expanding a node during Spread costs one dependent memory access instead of one
// per array, and leaves the collector one pointer-free object per node to track.

// blockWords is the size in words of a block holding n edges.
func blockWords(n int) int {
	return 1 + 2*n + (n+3)/4
}

// adjacency is a view of one node's edges as parallel arrays, sorted by weight
// descending, then target ascending. Views of published blocks must not be written.
type adjacency struct {
	to     []uint32
	weight []float32
	kind   []EdgeKind
}

// view returns the adjacency stored in block (empty for nil).
func view(block *uint32) adjacency {
	if block == nil {
		return adjacency{}
	}
	n := int(*block)
	words := unsafe.Slice(block, blockWords(n))
	return adjacency{
		to:     words[1 : 1+n : 1+n],
		weight: unsafe.Slice((*float32)(unsafe.Pointer(&words[1+n])), n),
		kind:   unsafe.Slice((*EdgeKind)(unsafe.Pointer(&words[1+2*n])), n),
	}
}

// newBlock allocates a block for n > 0 edges and returns it with a writable view.
func newBlock(n int) (*uint32, adjacency) {
	words := make([]uint32, blockWords(n))
	words[0] = uint32(n)
	return &words[0], view(&words[0])
}

// pack copies a into a new block, or returns nil when a is empty.
func pack(a adjacency) *uint32 {
	if len(a.to) == 0 {
		return nil
	}
	block, dst := newBlock(len(a.to))
	copy(dst.to, a.to)
	copy(dst.weight, a.weight)
	copy(dst.kind, a.kind)
	return block
}

// find returns the index of the edge to node, or -1.
func (a adjacency) find(node uint32) int {
	for i, t := range a.to {
		if t == node {
			return i
		}
	}
	return -1
}

// before reports whether edge (w1, t1) sorts before edge (w2, t2).
func before(w1 float32, t1 uint32, w2 float32, t2 uint32) bool {
	if w1 != w2 {
		return w1 > w2
	}
	return t1 < t2
}

// with returns a block holding block's edges plus (to, w, kind) under the max-weight
// rule, or block itself when nothing changes. added reports whether the edge is new.
func with(block *uint32, to uint32, w float32, kind EdgeKind) (next *uint32, added bool) {
	old := view(block)
	skip := old.find(to)
	if skip >= 0 && w <= old.weight[skip] {
		return block, false
	}
	n := len(old.to) + 1
	if skip >= 0 {
		n--
	}
	next, dst := newBlock(n)
	j, placed := 0, false
	for i := range old.to {
		if i == skip {
			continue
		}
		if !placed && before(w, to, old.weight[i], old.to[i]) {
			dst.to[j], dst.weight[j], dst.kind[j] = to, w, kind
			j, placed = j+1, true
		}
		dst.to[j], dst.weight[j], dst.kind[j] = old.to[i], old.weight[i], old.kind[i]
		j++
	}
	if !placed {
		dst.to[j], dst.weight[j], dst.kind[j] = to, w, kind
	}
	return next, skip < 0
}

// without returns a block lacking the edge to node (nil when none remain), or block
// itself when there is no such edge.
func without(block *uint32, node uint32) *uint32 {
	old := view(block)
	skip := old.find(node)
	if skip < 0 {
		return block
	}
	if len(old.to) == 1 {
		return nil
	}
	next, dst := newBlock(len(old.to) - 1)
	j := 0
	for i := range old.to {
		if i == skip {
			continue
		}
		dst.to[j], dst.weight[j], dst.kind[j] = old.to[i], old.weight[i], old.kind[i]
		j++
	}
	return next
}

// clone copies a into private, growable arrays with room for extra more edges.
func (a adjacency) clone(extra int) adjacency {
	n := len(a.to)
	c := adjacency{
		to:     make([]uint32, n, n+extra),
		weight: make([]float32, n, n+extra),
		kind:   make([]EdgeKind, n, n+extra),
	}
	copy(c.to, a.to)
	copy(c.weight, a.weight)
	copy(c.kind, a.kind)
	return c
}

// upsert adds the edge or raises its weight in a private adjacency (see clone).
// changed reports whether anything was written and added whether the edge is new.
func (a *adjacency) upsert(to uint32, w float32, kind EdgeKind) (changed, added bool) {
	i := a.find(to)
	if i >= 0 {
		if w <= a.weight[i] {
			return false, false
		}
		a.to = append(a.to[:i], a.to[i+1:]...)
		a.weight = append(a.weight[:i], a.weight[i+1:]...)
		a.kind = append(a.kind[:i], a.kind[i+1:]...)
	}
	p := 0
	for p < len(a.to) && before(a.weight[p], a.to[p], w, to) {
		p++
	}
	a.to = insertAt(a.to, p, to)
	a.weight = insertAt(a.weight, p, w)
	a.kind = insertAt(a.kind, p, kind)
	return true, i < 0
}

func insertAt[T any](s []T, i int, v T) []T {
	var zero T
	s = append(s, zero)
	copy(s[i+1:], s[i:])
	s[i] = v
	return s
}
