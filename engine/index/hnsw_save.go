package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/engram-go/engram/simd"
)

// ErrHNSWData marks saved HNSW data that does not decode into a consistent graph.
var ErrHNSWData = errors.New("index: invalid saved HNSW graph")

// Saved HNSW graph (docs/formats/hnsw.md), integers little endian:
//
//	header (16 bytes): M (u32), nodes (u32), entry row (u32), top level (u8), 3 zero bytes
//	per node, rows rising: row (u32), level (u8), layer-0 count n (u16), n neighbour rows
//	(u32), then per layer 1..level: count (u16) and the rows
//
// Deleted nodes are not saved, and links to them are dropped: a loaded graph holds only
// live nodes. Codes are not saved either; the caller's HNSWConfig.Codes supplies them, or
// LoadHNSW quantises the vectors again.
const (
	hnswSavedHeader = 16
	hnswNodeMin     = 7 // row, level, layer-0 count
)

// AppendSaved appends the graph to dst, renumbered by remap: node r is saved as row
// remap(r) when remap reports true and the node is not deleted, and left out otherwise,
// along with every link to it. Links keep their order. The entry point is the first
// saved node of the highest level saved, unless the graph's own is saved. Safe to call while the graph is searched; an
// insert waits until it is done.
func (h *HNSW) AppendSaved(dst []byte, remap func(row uint32) (uint32, bool)) []byte {
	h.insertMu.Lock() // inserts publish links without mu
	defer h.insertMu.Unlock()
	h.mu.RLock()
	defer h.mu.RUnlock()
	type kept struct{ old, row uint32 }
	var nodes []kept
	to := make([]uint32, len(h.levels)) // new row + 1, 0 when left out
	for r, lv := range h.levels {
		if lv < 0 || h.deleted[r] {
			continue
		}
		if nr, ok := remap(uint32(r)); ok && nr < math.MaxUint32 {
			to[r] = nr + 1
			nodes = append(nodes, kept{uint32(r), nr})
		}
	}
	// Rows rise in the file, and remap need not keep the graph's order.
	slices.SortFunc(nodes, func(a, b kept) int { return cmpRow(a.row, b.row) })
	entry, top := uint32(0), -1
	if h.nodes > 0 && to[h.entry] != 0 {
		entry, top = to[h.entry]-1, h.topLevel
	}
	for _, n := range nodes {
		if lv := int(h.levels[n.old]); lv > top {
			entry, top = n.row, lv
		}
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(h.cfg.M))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(nodes)))
	dst = binary.LittleEndian.AppendUint32(dst, entry)
	dst = append(dst, byte(max(top, 0)), 0, 0, 0)
	for _, n := range nodes {
		lv := int(h.levels[n.old])
		dst = binary.LittleEndian.AppendUint32(dst, n.row)
		dst = append(dst, byte(lv))
		for l := 0; l <= lv; l++ {
			dst = appendLinks(dst, h.linksAt(n.old, l), to)
		}
	}
	return dst
}

// appendLinks appends the count and the renumbered rows of the links whose target is
// kept (to[target] != 0).
func appendLinks(dst []byte, links []uint32, to []uint32) []byte {
	at := len(dst)
	dst = append(dst, 0, 0)
	n := 0
	for _, c := range links {
		if to[c] != 0 {
			dst = binary.LittleEndian.AppendUint32(dst, to[c]-1)
			n++
		}
	}
	binary.LittleEndian.PutUint16(dst[at:], uint16(n))
	return dst
}

// Load fills an empty graph over rows [0, rows) from data written by AppendSaved, saved
// with the graph's M. It checks that the data is consistent — rows rise, lie below rows
// and are ones accept (when not nil) takes, levels and link counts within bounds, every
// link to another node that reaches the link's layer, the entry point a node of the top
// level — and otherwise returns an error wrapping ErrHNSWData and leaves the graph empty.
// The vectors of the saved rows must be in place (and their codes, when the
// configuration supplies codes). No search or insert may run during Load.
func (h *HNSW) Load(rows int, data []byte, accept func(row uint32) bool) error {
	if h.nodes > 0 {
		return fmt.Errorf("index: hnsw: load into a graph of %d nodes", h.nodes)
	}
	n, err := loadHNSW(h.dim, h.cfg, h.vector, rows, data, accept)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.levels, h.links0, h.scores0, h.scored, h.upper, h.deleted = n.levels, n.links0, n.scores0, n.scored, n.upper, n.deleted
	h.codes, h.scales = n.codes, n.scales
	h.entry, h.topLevel, h.nodes = n.entry, n.topLevel, n.nodes
	h.live.Store(n.live.Load())
	return nil
}

// loadHNSW is NewHNSW then Load.

func loadHNSW(dim int, cfg HNSWConfig, vector func(row uint32) []float32, rows int, data []byte, accept func(row uint32) bool) (*HNSW, error) {
	h := NewHNSW(dim, cfg, vector)
	bad := func(format string, args ...any) (*HNSW, error) {
		return nil, fmt.Errorf("%w: %s", ErrHNSWData, fmt.Sprintf(format, args...))
	}
	if len(data) < hnswSavedHeader {
		return bad("%d bytes", len(data))
	}
	le := binary.LittleEndian
	m, nodes, entry, top := le.Uint32(data), le.Uint32(data[4:]), le.Uint32(data[8:]), int(data[12])
	switch {
	case m != uint32(h.maxM):
		return bad("saved with M = %d, configured %d", m, h.maxM)
	case data[13] != 0 || data[14] != 0 || data[15] != 0:
		return bad("reserved bytes are not zero")
	case uint64(nodes) > uint64(rows) || uint64(nodes) > uint64(len(data)-hnswSavedHeader)/hnswNodeMin:
		return bad("%d nodes in %d bytes over %d rows", nodes, len(data), rows)
	case top > maxHNSWLevel:
		return bad("top level %d", top)
	}
	data = data[hnswSavedHeader:]
	if rows > 0 {
		h.grow(rows)
	}
	seen := -1
	for i := uint32(0); i < nodes; i++ {
		if len(data) < hnswNodeMin {
			return bad("node %d is cut short", i)
		}
		row, lv, n0 := le.Uint32(data), int(data[4]), int(le.Uint16(data[5:]))
		data = data[hnswNodeMin:]
		switch {
		case int64(row) <= int64(seen) || int64(row) >= int64(rows):
			return bad("node %d has row %d after row %d, of %d", i, row, seen, rows)
		case accept != nil && !accept(row):
			return bad("node %d has row %d, which the store does not index", i, row)
		case lv > top:
			return bad("row %d has level %d above the top level %d", row, lv, top)
		case n0 > h.maxM0 || len(data) < 4*n0:
			return bad("row %d has %d layer-0 links", row, n0)
		}
		seen = int(row)
		h.levels[row] = int8(lv)
		off := int(row) * (h.maxM0 + 1)
		h.links0[off] = uint32(n0)
		for j := range n0 {
			h.links0[off+1+j] = le.Uint32(data[4*j:])
		}
		data = data[4*n0:]
		if lv > 0 {
			up := make([]uint32, lv*(h.maxM+1))
			for l := range lv {
				if len(data) < 2 {
					return bad("row %d is cut short at layer %d", row, l+1)
				}
				n := int(le.Uint16(data))
				if n > h.maxM || len(data) < 2+4*n {
					return bad("row %d has %d links on layer %d", row, n, l+1)
				}
				at := l * (h.maxM + 1)
				up[at] = uint32(n)
				for j := range n {
					up[at+1+j] = le.Uint32(data[2+4*j:])
				}
				data = data[2+4*n:]
			}
			h.upper[row] = up
		}
	}
	if len(data) != 0 {
		return bad("%d bytes after the last node", len(data))
	}
	if err := h.checkLoaded(int(nodes), entry, top); err != nil {
		return nil, err
	}
	if h.cfg.Codes == nil {
		for r, lv := range h.levels {
			if lv >= 0 {
				h.scales[r] = simd.Quantize(h.vector(uint32(r)), h.codes[r*h.dim:(r+1)*h.dim])
			}
		}
	}
	return h, nil
}

// checkLoaded checks the links and the entry point of a graph just filled by LoadHNSW,
// and sets its counts.
func (h *HNSW) checkLoaded(nodes int, entry uint32, top int) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrHNSWData, fmt.Sprintf(format, args...))
	}
	for r, lv := range h.levels {
		for l := 0; l <= int(lv); l++ {
			for _, c := range h.linksAt(uint32(r), l) {
				if int(c) >= len(h.levels) || int(h.levels[c]) < l || c == uint32(r) {
					return bad("row %d links to row %d on layer %d", r, c, l)
				}
			}
		}
	}
	if nodes > 0 && (int(entry) >= len(h.levels) || int(h.levels[entry]) != top) {
		return bad("entry row %d is not a node of the top level %d", entry, top)
	}
	if nodes == 0 && (entry != 0 || top != 0) {
		return bad("an empty graph with entry row %d and top level %d", entry, top)
	}
	h.nodes, h.entry, h.topLevel = nodes, entry, top
	h.live.Store(int64(nodes))
	return nil
}
