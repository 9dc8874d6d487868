package tier

import (
	"encoding/binary"
	"fmt"
	"math"
)

// RowEdge is one undirected association edge between two rows of a checkpoint, A < B.
type RowEdge struct {
	A, B   uint32
	Weight float32
	Kind   uint8
}

// RowGraph is the association graph of a checkpoint keyed by the rows the memories get
// when the checkpoint is loaded (docs/formats/rowgraph.md): a derived file, loaded in one
// pass instead of resolving the edges file's ids, and valid only for the checkpoint and
// the rows its header names.
type RowGraph struct {
	DerivedHeader           // Count is len(Edges)
	Edges         []RowEdge // sorted by A, then B, no pair twice
}

// The row graph file is a derived file (derived.go) whose payload is, per edge, A (u32),
// B (u32), weight (f32 bits) and kind (u8).
const (
	rowGraphMagic = "ENGRMRGR"
	rowEdgeSize   = 13
)

// WriteRowGraph writes g to path atomically. Its edges must be sorted, within its rows,
// with weights in (0, 1].
func WriteRowGraph(path string, g RowGraph) error {
	buf := make([]byte, derivedHeaderSize, derivedHeaderSize+rowEdgeSize*len(g.Edges))
	for i, e := range g.Edges {
		if err := checkRowEdge(g, i, e); err != "" {
			return fmt.Errorf("tier: write row graph %s: %w: %s", path, ErrInvalidRecord, err)
		}
		buf = binary.LittleEndian.AppendUint32(buf, e.A)
		buf = binary.LittleEndian.AppendUint32(buf, e.B)
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(e.Weight))
		buf = append(buf, e.Kind)
	}
	g.Count = uint64(len(g.Edges))
	if err := writeDerived(path, rowGraphMagic, g.DerivedHeader, buf); err != nil {
		return fmt.Errorf("tier: write row graph: %w", err)
	}
	return nil
}

// ReadRowGraph reads the row graph file at path (see DecodeRowGraph).
func ReadRowGraph(path string) (RowGraph, error) {
	return readDerived(path, "row graph", DecodeRowGraph)
}

// DecodeRowGraph decodes a row graph file. Damage yields an error wrapping ErrCorrupt, a
// version other than 1 one wrapping ErrVersion. A decoded graph's edges are sorted, have
// A < B < Rows and weights in (0, 1].
func DecodeRowGraph(data []byte) (RowGraph, error) {
	h, payload, err := decodeDerived(data, rowGraphMagic, "row graph")
	if err != nil {
		return RowGraph{}, err
	}
	corrupt := func(format string, args ...any) error {
		return &CorruptError{File: "row graph", Reason: fmt.Sprintf(format, args...)}
	}
	if h.Count > uint64(len(payload))/rowEdgeSize || uint64(len(payload)) != h.Count*rowEdgeSize {
		return RowGraph{}, corrupt("payload is %d bytes for %d edges", len(payload), h.Count)
	}
	g := RowGraph{DerivedHeader: h, Edges: make([]RowEdge, h.Count)}
	for i := range g.Edges {
		p := payload[i*rowEdgeSize:]
		e := RowEdge{
			A:      binary.LittleEndian.Uint32(p),
			B:      binary.LittleEndian.Uint32(p[4:]),
			Weight: math.Float32frombits(binary.LittleEndian.Uint32(p[8:])),
			Kind:   p[12],
		}
		if err := checkRowEdge(g, i, e); err != "" {
			return RowGraph{}, corrupt("%s", err)
		}
		g.Edges[i] = e
	}
	return g, nil
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
