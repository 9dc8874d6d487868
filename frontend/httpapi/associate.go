package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

type associateAnswer struct {
	Created          bool     `json:"created"`
	FinalStrength    float32  `json:"final_strength"`
	PreviousStrength float32  `json:"previous_strength"`
	AffectedPaths    []string `json:"affected_paths"`
	MemorySpaceID    string   `json:"memory_space_id"`
}

// handleAssociate serves POST /api/v1/memories/associate: create or strengthen the
// explicit association between source_memory and target_memory (Space.Associate).
func (s *Server) handleAssociate(rq *request) error {
	v, err := rq.jsonObject()
	if err != nil {
		return err
	}
	src, err := optString(v, "source_memory")
	if err != nil {
		return err
	}
	dst, err := optString(v, "target_memory")
	if err != nil {
		return err
	}
	if src == "" || dst == "" {
		return invalidInput("source_memory and target_memory are required")
	}
	strength, err := optRange(v, "strength", 0, 1)
	if err != nil {
		return err
	}
	kind, err := optString(v, "association_type")
	if err != nil {
		return err
	}
	if err := frontend.CheckAssociationType(kind); err != nil {
		return err
	}
	if _, err := optString(v, "reason"); err != nil {
		return err
	}
	sp, id, err := rq.readSpaceOf(v)
	if err != nil {
		return err
	}
	if sp == nil {
		return fmt.Errorf("%w: %q in space %q", engine.ErrNotFound, src, id)
	}
	if err := rq.srv.opts.Limits.AllowRemember(sp, 1); err != nil {
		return err
	}
	a, err := sp.Associate(context.Background(), src, dst, strength)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if a.Created {
		status = http.StatusCreated
	}
	return writeJSON(rq.ctx, status, &associateAnswer{Created: a.Created, FinalStrength: a.Strength,
		PreviousStrength: a.Previous, AffectedPaths: []string{src + " -> " + dst}, MemorySpaceID: id})
}
