package httpapi

import (
	"net/http"

	"github.com/engram-go/engram/engine"
)

// associationJSON is one edge of a memory (docs/api.md).
type associationJSON struct {
	TargetMemoryID string  `json:"target_memory_id"`
	Weight         float32 `json:"weight"`
	Kind           string  `json:"kind"`
}

type associationsAnswer struct {
	MemoryID      string            `json:"memory_id"`
	Associations  []associationJSON `json:"associations"`
	Count         int               `json:"count"`
	MemorySpaceID string            `json:"memory_space_id"`
}

// handleAssociations serves GET /api/v1/memories/{id}/associations: the memory's
// association edges, strongest first. The space is chosen like every route's; an id not
// in that space is 404, whatever other spaces hold.
func (s *Server) handleAssociations(rq *request) error {
	sp, id, err := rq.readSpace("")
	if err != nil {
		return err
	}
	if sp == nil {
		return memoryNotFound(rq.param, id)
	}
	edges, err := sp.Associations(rq.param)
	if err != nil {
		return err
	}
	a := associationsAnswer{MemoryID: rq.param, Associations: associationsJSON(edges), Count: len(edges), MemorySpaceID: sp.ID()}
	return writeJSON(rq.ctx, http.StatusOK, &a)
}

func associationsJSON(edges []engine.Association) []associationJSON {
	out := make([]associationJSON, len(edges))
	for i, e := range edges {
		out[i] = associationJSON{TargetMemoryID: e.TargetID, Weight: finite32(e.Weight), Kind: e.Kind}
	}
	return out
}
