package engine

import (
	"context"
	"fmt"

	"github.com/engram-go/engram/engine/graph"
	"github.com/engram-go/engram/engine/record"
	"github.com/engram-go/engram/engine/wal"
)

// KindAssociation is the edge kind of an association made explicitly by a client
// (Associate), beside the graph package's similarity, temporal and consolidation kinds.
// It is stored in links records (docs/formats/records.md) like any edge.
const KindAssociation graph.EdgeKind = 4

// DefaultAssociationStrength is the strength of an Associate that gives none.
const DefaultAssociationStrength = 0.5

// AssociateResult is the outcome of Associate.
type AssociateResult struct {
	Created  bool    // no edge joined the two memories before
	Previous float32 // the edge's weight before, 0 when created
	Strength float32 // the edge's weight now
}

// Associate creates an explicit association edge between two memories of the space, or
// strengthens the existing edge: a new edge gets weight strength; an existing edge of
// weight w becomes w + strength·(1−w), so repeated associations saturate towards 1. The
// edge is written to the WAL (a links record of the source) before it is applied, so it
// is durable per the sync mode, and spreading activation follows it at once. strength 0
// means DefaultAssociationStrength. ErrNotFound names a missing memory.
func (s *Space) Associate(ctx context.Context, source, target string, strength float32) (AssociateResult, error) {
	if err := ctx.Err(); err != nil {
		return AssociateResult{}, err
	}
	for _, c := range []struct{ name, id string }{{"source_memory", source}, {"target_memory", target}} {
		if err := ValidateID(c.id); err != nil {
			return AssociateResult{}, fmt.Errorf("%s: %w", c.name, err)
		}
	}
	if source == target {
		return AssociateResult{}, fmt.Errorf("%w: source_memory and target_memory are the same memory %q", ErrInvalidInput, source)
	}
	if strength == 0 {
		strength = DefaultAssociationStrength
	}
	if !(strength > 0 && strength <= 1) {
		return AssociateResult{}, fmt.Errorf("%w: strength must be in (0, 1]", ErrInvalidInput)
	}
	st, err := s.acquireForWrite()
	if err != nil {
		return AssociateResult{}, err
	}
	defer s.mu.RUnlock()
	defer st.lockIDs(source, target)()

	st.mu.RLock()
	var (
		rows    [2]uint32
		version int64
	)
	for i, id := range []string{source, target} {
		row, ok := st.rowOf(id)
		if !ok {
			st.mu.RUnlock()
			return AssociateResult{}, fmt.Errorf("%w: %q in space %q", ErrNotFound, id, s.id)
		}
		rows[i] = row
	}
	version = st.byRow[rows[0]].m.StoredAt.UnixNano()
	var a AssociateResult
	a.Created = true
	for _, e := range st.graph.Neighbors(rows[0]) {
		if e.To == rows[1] {
			a.Created, a.Previous = false, e.Weight
		}
	}
	st.mu.RUnlock()

	a.Strength = min(1, a.Previous+strength*(1-a.Previous))
	if a.Strength <= a.Previous {
		return a, nil // already at full strength: nothing to write
	}
	links := []record.Link{{Target: target, Weight: a.Strength, Kind: uint8(KindAssociation)}}
	st.cp.RLock()
	defer st.cp.RUnlock()
	if _, err := st.log.Append(wal.Entry{Type: record.TypeLinks, Payload: record.AppendLinks(nil, source, version, links)}); err != nil {
		return AssociateResult{}, st.checkLog(err)
	}
	st.mu.Lock()
	st.applyLinks(source, version, links)
	st.mu.Unlock()
	return a, nil
}

// associationsOnly reports whether a links record holds only explicit associations.
func associationsOnly(links []record.Link) bool {
	for _, l := range links {
		if graph.EdgeKind(l.Kind) != KindAssociation {
			return false
		}
	}
	return len(links) > 0
}

// edgeKindName names an edge kind in listings: the graph's kinds by their own names,
// KindAssociation as "association".
func edgeKindName(k graph.EdgeKind) string {
	if k == KindAssociation {
		return "association"
	}
	return k.String()
}
