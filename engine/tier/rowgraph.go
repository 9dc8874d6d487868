package tier

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"unsafe"
)

// RowEdge is one undirected association edge between two rows of a checkpoint, A < B.
type RowEdge struct {
	A, B   uint32
	Weight float32
	Kind   uint8
}

// RowGraph is the association graph of a checkpoint keyed by the rows the memories get
// when the checkpoint is loaded (docs/formats/rowgraph.md): a derived file, loaded in one
// sequential pass instead of resolving the edges file's ids, and valid only for the
// checkpoint and the rows its header names. WriteRowGraph takes the edges; the file
// holds each row's adjacency list in the order the association graph keeps it, which
// DecodeRowGraph returns, in place, as a RowAdjacency.
type RowGraph struct {
	DerivedHeader           // Count is len(Edges)
	Edges         []RowEdge // sorted by A, then B, no pair twice
}

// RowAdjacency is a decoded row graph, read in place: per row with edges (Nodes,
// rising), its list of neighbours with their weights and kinds, sorted by weight
// descending, then row ascending (List), which the file holds as one block of words
// (Block). Every undirected edge is listed at both of its rows.
type RowAdjacency struct {
	DerivedHeader // Count is the number of undirected edges
	Nodes         []uint32
	// Offsets[i] is where row Nodes[i]'s block starts in Words.
	Offsets []int
	// Words is the file's payload as little-endian words: the decoded file's own bytes
	// when they are aligned for it.
	Words []uint32
}

// Block returns the words of row Nodes[i]'s list as the file holds it: the edge count
// n, n neighbour rows, n weights (float32 bits), then the n kinds, one byte each, packed
// four to a word from its low byte, zero bytes after the last. This is the layout in
// which the association graph keeps a node's edges (engine/graph), so the graph takes
// the blocks as they are.
func (a RowAdjacency) Block(i int) []uint32 {
	at := a.Offsets[i]
	return a.Words[at : at+rowBlockWords(int(a.Words[at]))]
}

// List returns row Nodes[i]'s neighbours, their weights and their kinds, in place.
func (a RowAdjacency) List(i int) (to []uint32, weight []float32, kind []uint8) {
	return rowList(a.Block(i))
}

// rowList views a block (RowAdjacency.Block) as its three lists. The host is little
// endian (DecodeRowGraph checks).
func rowList(block []uint32) (to []uint32, weight []float32, kind []uint8) {
	n := int(block[0])
	to = block[1 : 1+n : 1+n]
	weight = unsafe.Slice((*float32)(unsafe.Pointer(&block[1+n])), n)
	kind = unsafe.Slice((*uint8)(unsafe.Pointer(&block[1+2*n])), n)
	return to, weight, kind
}

// rowBlockWords is the size in words of the block of a row with n edges.
func rowBlockWords(n int) int { return 1 + 2*n + (n+3)/4 }

// rowLists is each row's list of a row graph on its way to the file: per row with edges
// (Nodes, rising), its neighbours To[Start[i]:Start[i+1]] with their weights and kinds.
type rowLists struct {
	Nodes  []uint32
	Start  []int // len(Nodes)+1 offsets into To, Weight and Kind
	To     []uint32
	Weight []float32
	Kind   []uint8
}

// The row graph file (version 2) is a derived file (derived.go) whose payload is, per
// row with edges in rising order: the row (u32), its edge count n (u32), n neighbour rows
// (u32), n weights (f32 bits), n kinds (u8), then zero bytes up to a multiple of four.
// Version 1 listed each undirected edge once, sorted by its rows; a reader meets it with
// ErrVersion, and the engine builds the graph from the edges file instead.
const (
	rowGraphMagic   = "ENGRMRGR"
	rowGraphVersion = 2
)

// WriteRowGraph writes g to path atomically. Its edges must be sorted, within its rows,
// with weights in (0, 1].
func WriteRowGraph(path string, g RowGraph) error {
	for i, e := range g.Edges {
		if err := checkRowEdge(g, i, e); err != "" {
			return fmt.Errorf("tier: write row graph %s: %w: %s", path, ErrInvalidRecord, err)
		}
	}
	adj := adjacencyOf(g)
	size := derivedHeaderSize
	for i := range adj.Nodes {
		size += rowNodeSize(adj.Start[i+1] - adj.Start[i])
	}
	buf := make([]byte, derivedHeaderSize, size)
	le := binary.LittleEndian
	for i, v := range adj.Nodes {
		lo, hi := adj.Start[i], adj.Start[i+1]
		buf = le.AppendUint32(buf, v)
		buf = le.AppendUint32(buf, uint32(hi-lo))
		for _, to := range adj.To[lo:hi] {
			buf = le.AppendUint32(buf, to)
		}
		for _, w := range adj.Weight[lo:hi] {
			buf = le.AppendUint32(buf, math.Float32bits(w))
		}
		buf = append(buf, adj.Kind[lo:hi]...)
		buf = append(buf, make([]byte, pad4(hi-lo))...)
	}
	g.Count = uint64(len(g.Edges))
	if err := writeDerived(path, rowGraphMagic, rowGraphVersion, g.DerivedHeader, buf); err != nil {
		return fmt.Errorf("tier: write row graph: %w", err)
	}
	return nil
}

// rowNodeSize is the bytes a row with n edges takes in the file.
func rowNodeSize(n int) int { return 8 + 9*n + pad4(n) }

// pad4 is the zero bytes after n kinds.
func pad4(n int) int { return (4 - n%4) % 4 }

// adjacencyOf lists each edge of g at both of its rows, in the graph's order. The edges
// are in range (checkRowEdge).
func adjacencyOf(g RowGraph) rowLists {
	rows := uint32(0) // one past the highest row with an edge: Rows may be far more
	for _, e := range g.Edges {
		rows = max(rows, e.B+1)
	}
	at := make([]int, rows) // degrees, then each row's next free slot
	for _, e := range g.Edges {
		at[e.A]++
		at[e.B]++
	}
	a := rowLists{Start: []int{0}}
	next := 0
	for v, d := range at {
		at[v] = next
		if d > 0 {
			next += d
			a.Nodes = append(a.Nodes, uint32(v))
			a.Start = append(a.Start, next)
		}
	}
	n := 2 * len(g.Edges)
	a.To, a.Weight, a.Kind = make([]uint32, n), make([]float32, n), make([]uint8, n)
	put := func(v, to uint32, e RowEdge) {
		i := at[v]
		a.To[i], a.Weight[i], a.Kind[i] = to, e.Weight, e.Kind
		at[v]++
	}
	for _, e := range g.Edges {
		put(e.A, e.B, e)
		put(e.B, e.A, e)
	}
	var list []RowEdge // one row's edges, B the neighbour
	for i := range a.Nodes {
		lo, hi := a.Start[i], a.Start[i+1]
		list = list[:0]
		for j := lo; j < hi; j++ {
			list = append(list, RowEdge{B: a.To[j], Weight: a.Weight[j], Kind: a.Kind[j]})
		}
		slices.SortFunc(list, func(x, y RowEdge) int {
			if x.Weight != y.Weight {
				return -cmp.Compare(x.Weight, y.Weight)
			}
			return cmp.Compare(x.B, y.B)
		})
		for j, e := range list {
			a.To[lo+j], a.Weight[lo+j], a.Kind[lo+j] = e.B, e.Weight, e.Kind
		}
	}
	return a
}

// ReadRowGraph reads the row graph file at path (see DecodeRowGraph).
func ReadRowGraph(path string) (RowAdjacency, error) {
	return readDerived(path, "row graph", DecodeRowGraph)
}

// DecodeRowGraph decodes a row graph file, in place when data is aligned for words.
// Damage yields an error wrapping ErrCorrupt, a version other than 2 one wrapping
// ErrVersion, a big-endian host ErrByteOrder. A decoded graph's rows rise and lie below
// Rows, each row's list is sorted by weight descending then row ascending, names no row
// twice and not the row itself, weights are in (0, 1], and every edge appears at both of
// its rows with the same weight and kind (checked by comparing order-independent sums of
// the two halves: a file written for another graph fails it but for a 2⁻⁶⁴ chance).
func DecodeRowGraph(data []byte) (RowAdjacency, error) {
	h, payload, err := decodeDerived(data, rowGraphMagic, rowGraphVersion, "row graph")
	if err != nil {
		return RowAdjacency{}, err
	}
	if !hostLittleEndian() {
		return RowAdjacency{}, fmt.Errorf("tier: row graph: %w", ErrByteOrder)
	}
	corrupt := func(format string, args ...any) (RowAdjacency, error) {
		return RowAdjacency{}, &CorruptError{File: "row graph", Reason: fmt.Sprintf(format, args...)}
	}
	// Each undirected edge takes at least 18 bytes (9 at each row).
	if h.Count > uint64(len(payload))/18 || len(payload)%4 != 0 {
		return corrupt("payload is %d bytes for %d edges", len(payload), h.Count)
	}
	words := wordsOf(payload)
	// A row with edges takes at least four words: room for as many entries as the rows or
	// the words allow, where appending would copy the lists as they grow.
	most := min(h.Rows, uint64(len(words)/4))
	a := RowAdjacency{DerivedHeader: h, Words: words, Nodes: make([]uint32, 0, most), Offsets: make([]int, 0, most)}
	n := int(2 * h.Count)
	ends := 0
	var below, above uint64 // sums over the halves of each edge: to > row, to < row
	var seen []uint32
	// marks[t] is one more than the last row whose list named row t, for repeated: as
	// many words as the rows, made only when the payload has at least as many.
	var marks []uint32
	if h.Rows <= uint64(len(words)) {
		marks = make([]uint32, h.Rows)
	}
	prev := int64(-1)
	for at := 0; at < len(words); {
		if len(words)-at < 2 {
			return corrupt("row entry cut short")
		}
		v, deg := words[at], words[at+1]
		if int64(v) <= prev || uint64(v) >= h.Rows {
			return corrupt("row %d after row %d, of %d", v, prev, h.Rows)
		}
		if deg == 0 || uint64(deg) > uint64(len(words)-at) || len(words)-at-1 < rowBlockWords(int(deg)) {
			return corrupt("row %d has %d edges in %d bytes", v, deg, 4*(len(words)-at))
		}
		d := int(deg)
		if ends+d > n {
			return corrupt("more edge ends than the %d edges hold", h.Count)
		}
		prev = int64(v)
		block := words[at+1 : at+1+rowBlockWords(d)]
		to, ws, ks := rowList(block)
		for j, t := range to {
			w, k := ws[j], ks[j]
			switch {
			case t == v || uint64(t) >= h.Rows:
				return corrupt("row %d has an edge to row %d, of %d", v, t, h.Rows)
			case !(w > 0 && w <= 1):
				return corrupt("row %d has an edge of weight %v", v, w)
			case j > 0 && !rowBefore(ws[j-1], to[j-1], w, t):
				return corrupt("row %d: edges out of order", v)
			}
			if t > v {
				below += edgeHash(v, t, w, k)
			} else {
				above += edgeHash(t, v, w, k)
			}
		}
		if !allZero(unsafe.Slice(&ks[0], 4*((d+3)/4))[d:]) {
			return corrupt("row %d: padding is not zero", v)
		}
		// repeated sorts a long list in place without marks: then it gets a copy.
		list := to
		if d > 64 && marks == nil {
			seen = append(seen[:0], to...)
			list = seen
		}
		if t, dup := repeated(list, v, marks); dup {
			return corrupt("row %d has two edges to row %d", v, t)
		}
		a.Nodes = append(a.Nodes, v)
		a.Offsets = append(a.Offsets, at+1)
		ends += d
		at += 1 + len(block)
	}
	if ends != n || below != above {
		return corrupt("the rows' lists do not hold each of the %d edges at both ends", h.Count)
	}
	return a, nil
}

// wordsOf views b (a multiple of four bytes) as little-endian words: in place when it is
// aligned for them, else in a copy. The host is little endian.
func wordsOf(b []byte) []uint32 {
	if len(b) == 0 {
		return nil
	}
	if uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
		return unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), len(b)/4)
	}
	w := make([]uint32, len(b)/4)
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return w
}

// repeated reports a row found twice in rows, row v's neighbours, all below len(marks)
// when marks is not nil (see DecodeRowGraph; long lists are sorted in place without it).
// Most lists are short: a row is looked for among the earlier ones only when its bit in
// a 128-bit filter of them is already set, which takes a few per cent of the rows of a
// list of 16. A long list marks its rows in marks, as v+1, rows rising from list to list.
func repeated(rows []uint32, v uint32, marks []uint32) (uint32, bool) {
	if len(rows) > 64 && marks != nil {
		for _, r := range rows {
			if marks[r] == v+1 {
				return r, true
			}
			marks[r] = v + 1
		}
		return 0, false
	}
	if len(rows) > 64 {
		slices.Sort(rows)
		for i := 1; i < len(rows); i++ {
			if rows[i] == rows[i-1] {
				return rows[i], true
			}
		}
		return 0, false
	}
	var filter [2]uint64
	for i, r := range rows {
		h := r * 0x9e3779b1 >> 25 // 7 bits
		bit := uint64(1) << (h & 63)
		if filter[h>>6]&bit != 0 && slices.Contains(rows[:i], r) {
			return r, true
		}
		filter[h>>6] |= bit
	}
	return 0, false
}

// rowBefore is the graph's order of a row's edges: weight descending, then row
// ascending; equal edges are not in order.
func rowBefore(w1 float32, t1 uint32, w2 float32, t2 uint32) bool {
	if w1 != w2 {
		return w1 > w2
	}
	return t1 < t2
}

// edgeHash mixes an edge (a < b) into 64 bits, for the sums DecodeRowGraph compares: its
// rows and its weight and kind, the latter multiplied by an odd constant (a bijection,
// so that edges differing in either part alone never meet), go through one splitmix64
// finaliser.
func edgeHash(a, b uint32, w float32, k uint8) uint64 {
	x := uint64(a)<<32 | uint64(b)
	x ^= (uint64(math.Float32bits(w))<<8 | uint64(k)) * 0x9e3779b97f4a7c15
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// Edges returns the undirected edges of a, each once, sorted by A then B: the edges
// WriteRowGraph was given.
func (a RowAdjacency) Edges() []RowEdge {
	out := make([]RowEdge, 0, a.Count)
	for i, v := range a.Nodes {
		from := len(out)
		to, w, k := a.List(i)
		for j := range to {
			if to[j] > v {
				out = append(out, RowEdge{A: v, B: to[j], Weight: w[j], Kind: k[j]})
			}
		}
		slices.SortFunc(out[from:], func(x, y RowEdge) int { return cmp.Compare(x.B, y.B) })
	}
	return out
}

// checkRowEdge says what is wrong with edge i of g (whose earlier edges are set), or "".
func checkRowEdge(g RowGraph, i int, e RowEdge) string {
	switch {
	case e.A >= e.B || uint64(e.B) >= g.Rows:
		return fmt.Sprintf("edge %d joins rows %d and %d of %d", i, e.A, e.B, g.Rows)
	case !(e.Weight > 0 && e.Weight <= 1):
		return fmt.Sprintf("edge %d has weight %v", i, e.Weight)
	case i > 0 && (g.Edges[i-1].A > e.A || g.Edges[i-1].A == e.A && g.Edges[i-1].B >= e.B):
		return fmt.Sprintf("edge %d is out of order", i)
	}
	return ""
}
