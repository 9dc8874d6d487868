package tier

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"github.com/cespare/xxhash/v2"
	"github.com/engram-go/engram/internal/durable"
)

// RowEdge is one undirected association edge between two rows of a checkpoint, A < B.
type RowEdge struct {
	A, B   uint32
	Weight float32
	Kind   uint8
}

// RowGraph is the association graph of a checkpoint keyed by the rows the memories get
// when the checkpoint is loaded (docs/formats/rowgraph.md): a derived file, loaded in one
// pass instead of resolving the edges file's ids, and valid only for the checkpoint whose
// LSN it carries and for memories whose ids hash to IDSum in row order (IDSum).
type RowGraph struct {
	LSN   uint64
	Rows  uint64
	IDSum uint64
	Edges []RowEdge // sorted by A, then B, no pair twice
}

// Row graph file (docs/formats/rowgraph.md):
//
//	0   8  magic "ENGRMRGR"
//	8   2  version (1)
//	10  6  reserved, zero
//	16  8  checkpoint LSN
//	24  8  rows
//	32  8  id sum
//	40  8  edge count
//	48  8  xxHash64 of the payload
//	56  8  xxHash64 of bytes 0–55
//	64  …  payload: per edge A (u32), B (u32), weight (f32 bits), kind (u8)
const (
	rowGraphMagic      = "ENGRMRGR"
	rowGraphVersion    = 1
	rowGraphHeaderSize = 64
	rowEdgeSize        = 13
)

// IDSum hashes memory ids in row order, each followed by a zero byte, for RowGraph.IDSum.
type IDSum struct{ d *xxhash.Digest }

// NewIDSum returns an empty id sum.
func NewIDSum() IDSum { return IDSum{xxhash.New()} }

// Add appends id.
func (s IDSum) Add(id string) {
	_, _ = s.d.WriteString(id)
	_, _ = s.d.Write([]byte{0})
}

// Sum returns the hash of the ids added so far.
func (s IDSum) Sum() uint64 { return s.d.Sum64() }

// WriteRowGraph writes g to path atomically (temporary file, fsync, rename, folder fsync).
// Its edges must be sorted, within its rows, with finite weights.
func WriteRowGraph(path string, g RowGraph) error {
	buf := make([]byte, rowGraphHeaderSize, rowGraphHeaderSize+rowEdgeSize*len(g.Edges))
	for i, e := range g.Edges {
		if err := checkRowEdge(g, i, e); err != "" {
			return fmt.Errorf("tier: write row graph %s: %w: %s", path, ErrInvalidRecord, err)
		}
		buf = binary.LittleEndian.AppendUint32(buf, e.A)
		buf = binary.LittleEndian.AppendUint32(buf, e.B)
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(e.Weight))
		buf = append(buf, e.Kind)
	}
	copy(buf, rowGraphMagic)
	binary.LittleEndian.PutUint16(buf[8:], rowGraphVersion)
	binary.LittleEndian.PutUint64(buf[16:], g.LSN)
	binary.LittleEndian.PutUint64(buf[24:], g.Rows)
	binary.LittleEndian.PutUint64(buf[32:], g.IDSum)
	binary.LittleEndian.PutUint64(buf[40:], uint64(len(g.Edges)))
	binary.LittleEndian.PutUint64(buf[48:], xxhash.Sum64(buf[rowGraphHeaderSize:]))
	binary.LittleEndian.PutUint64(buf[56:], xxhash.Sum64(buf[:56]))
	if err := durable.WriteFileBytes(path, buf, 0o644); err != nil {
		return fmt.Errorf("tier: write row graph: %w", err)
	}
	return nil
}

// ReadRowGraph reads the row graph file at path (see DecodeRowGraph).
func ReadRowGraph(path string) (RowGraph, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return RowGraph{}, fmt.Errorf("tier: read row graph: %w", err)
	}
	g, err := DecodeRowGraph(data)
	if err != nil {
		return RowGraph{}, fmt.Errorf("tier: read row graph %s: %w", path, err)
	}
	return g, nil
}

// DecodeRowGraph decodes a row graph file. Damage yields an error wrapping ErrCorrupt, a
// version other than 1 one wrapping ErrVersion. A decoded graph's edges are sorted, have
// A < B < Rows and weights in (0, 1].
func DecodeRowGraph(data []byte) (RowGraph, error) {
	corrupt := func(format string, args ...any) error {
		return &CorruptError{File: "row graph", Reason: fmt.Sprintf(format, args...)}
	}
	if len(data) < rowGraphHeaderSize || string(data[:8]) != rowGraphMagic {
		return RowGraph{}, corrupt("not a row graph file (%d bytes)", len(data))
	}
	if xxhash.Sum64(data[:56]) != binary.LittleEndian.Uint64(data[56:]) {
		return RowGraph{}, corrupt("header checksum mismatch")
	}
	if v := binary.LittleEndian.Uint16(data[8:]); v != rowGraphVersion {
		return RowGraph{}, fmt.Errorf("%w: row graph version %d", ErrVersion, v)
	}
	if !allZero(data[10:16]) {
		return RowGraph{}, corrupt("reserved bytes are not zero")
	}
	g := RowGraph{
		LSN:   binary.LittleEndian.Uint64(data[16:]),
		Rows:  binary.LittleEndian.Uint64(data[24:]),
		IDSum: binary.LittleEndian.Uint64(data[32:]),
	}
	count := binary.LittleEndian.Uint64(data[40:])
	payload := data[rowGraphHeaderSize:]
	if count > uint64(len(payload))/rowEdgeSize || uint64(len(payload)) != count*rowEdgeSize {
		return RowGraph{}, corrupt("payload is %d bytes for %d edges", len(payload), count)
	}
	if xxhash.Sum64(payload) != binary.LittleEndian.Uint64(data[48:]) {
		return RowGraph{}, corrupt("payload checksum mismatch")
	}
	g.Edges = make([]RowEdge, count)
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
