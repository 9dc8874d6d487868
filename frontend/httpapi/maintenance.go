package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/engram-go/engram/client"
	"github.com/engram-go/engram/engine"
)

func newCompactFigures(st *engine.Stats) client.CompactFigures {
	return client.CompactFigures{Memories: st.Memories, Hot: st.Hot, Warm: st.Warm, Cold: st.Cold, WALBytes: st.WALBytes, WALSegments: st.WALSegments}
}

// handleCompact serves POST /api/v1/maintenance/compact: checkpoint the chosen space's
// tiers now (Space.CompactTiers). It never creates a space.
func (s *Server) handleCompact(rq *request) error {
	v, err := rq.optionalObject()
	if err != nil {
		return err
	}
	sp, id, err := rq.readSpaceOf(v)
	if err != nil {
		return err
	}
	if sp == nil {
		return fmt.Errorf("%w: %q", engine.ErrSpaceNotFound, id)
	}
	rep, err := sp.CompactTiers(context.Background())
	if err != nil {
		return err
	}
	return writeJSON(rq.ctx, http.StatusOK, &client.CompactResponse{Before: newCompactFigures(&rep.Before), After: newCompactFigures(&rep.After),
		CheckpointLSN: rep.CheckpointLSN, TookMS: float64(rep.Took.Microseconds()) / 1000, MemorySpaceID: id})
}
