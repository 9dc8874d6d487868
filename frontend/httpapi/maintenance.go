package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/engram-go/engram/engine"
)

type compactFigures struct {
	Memories    int   `json:"memories"`
	Hot         int   `json:"hot"`
	Warm        int   `json:"warm"`
	Cold        int   `json:"cold"`
	WALBytes    int64 `json:"wal_bytes"`
	WALSegments int   `json:"wal_segments"`
}

type compactAnswer struct {
	Before        compactFigures `json:"before"`
	After         compactFigures `json:"after"`
	CheckpointLSN uint64         `json:"checkpoint_lsn"`
	TookMS        float64        `json:"took_ms"`
	MemorySpaceID string         `json:"memory_space_id"`
}

func newCompactFigures(st *engine.Stats) compactFigures {
	return compactFigures{Memories: st.Memories, Hot: st.Hot, Warm: st.Warm, Cold: st.Cold, WALBytes: st.WALBytes, WALSegments: st.WALSegments}
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
	return writeJSON(rq.ctx, http.StatusOK, &compactAnswer{Before: newCompactFigures(&rep.Before), After: newCompactFigures(&rep.After),
		CheckpointLSN: rep.CheckpointLSN, TookMS: float64(rep.Took.Microseconds()) / 1000, MemorySpaceID: id})
}
