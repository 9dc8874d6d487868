package httpapi

import (
	"context"
	"net/http"
	"time"
)

type consolidateAnswer struct {
	MemoriesConsolidated int               `json:"memories_consolidated"`
	NewAssociations      int               `json:"new_associations"`
	Formed               []belief          `json:"formed"`
	StateChanges         map[string]string `json:"state_changes"`
	MemorySpaceID        string            `json:"memory_space_id"`
}

// handleConsolidate serves POST /api/v1/consolidations: run consolidation of the chosen
// space now and answer what it formed. Optional body: {"older_than": RFC 3339} (default:
// now minus [consolidation] min_age), memory_space / memory_space_id.
func (s *Server) handleConsolidate(rq *request) error {
	var cutoff time.Time
	v, err := rq.optionalObject()
	if err != nil {
		return err
	}
	if v != nil {
		if f := optValue(v, "older_than"); f != nil {
			if cutoff, err = fieldTime(f, "older_than"); err != nil {
				return err
			}
		}
	}
	sp, id, err := rq.readSpaceOf(v)
	if err != nil {
		return err
	}
	a := consolidateAnswer{Formed: []belief{}, StateChanges: map[string]string{}, MemorySpaceID: id}
	if sp == nil {
		return writeJSON(rq.ctx, http.StatusOK, &a)
	}
	// An error after some memories were formed still fails the request: those memories
	// are durable and listed by GET /api/v1/consolidations.
	formed, err := sp.ConsolidateBefore(context.Background(), cutoff)
	if err != nil {
		return err
	}
	for i := range formed {
		m := &formed[i]
		a.Formed = append(a.Formed, newBelief(sp, m))
		a.MemoriesConsolidated += len(m.Citations)
		a.NewAssociations += len(m.Citations)
		for _, ep := range m.Citations {
			a.StateChanges[ep] = "Consolidated"
		}
	}
	return writeJSON(rq.ctx, http.StatusOK, &a)
}
