package graph

// EdgeKind says why two memories are associated.
type EdgeKind uint8

const (
	// KindSimilarity links a memory to one of its most similar predecessors.
	KindSimilarity EdgeKind = 1
	// KindTemporal links memories observed close together in time.
	KindTemporal EdgeKind = 2
	// KindConsolidation links a consolidated (semantic) memory to its sources.
	KindConsolidation EdgeKind = 3
)

// String names the kind for logs and listings.
func (k EdgeKind) String() string {
	switch k {
	case KindSimilarity:
		return "similarity"
	case KindTemporal:
		return "temporal"
	case KindConsolidation:
		return "consolidation"
	default:
		return "unknown"
	}
}

// Edge is one association as seen from a node.
type Edge struct {
	To     uint32
	Weight float32
	Kind   EdgeKind
}

// normalizeWeight maps a requested weight into (0, 1]. It reports false for weights
// that cannot form an edge (zero, negative, NaN); weights above 1 are capped so that
// activation never grows along a path.
func normalizeWeight(w float32) (float32, bool) {
	if !(w > 0) {
		return 0, false
	}
	if w > 1 {
		return 1, true
	}
	return w, true
}
