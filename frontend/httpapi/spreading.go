package httpapi

import (
	"net/http"
	"time"

	"github.com/engram-go/engram/client"
	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/graph"
)

func newSpreadParams(p graph.Params) client.SpreadParams {
	return client.SpreadParams{MaxHops: p.MaxHops, Decay: p.Decay, Threshold: p.Threshold, Budget: p.Budget,
		MaxFanout: p.MaxFanout, RaiseSeeds: p.RaiseSeeds}
}

// handleSpreadingConfig serves GET /api/v1/system/spreading/config: the parameters
// spreading activation runs with, as the engine uses them.
func (s *Server) handleSpreadingConfig(rq *request) error {
	c := engine.Spreading()
	return writeJSON(rq.ctx, http.StatusOK, &client.SpreadingConfig{
		HybridRecall:    newSpreadParams(c.Hybrid),
		SpreadingRecall: newSpreadParams(c.Spreading),
		QuerySpread:     newSpreadParams(c.Query),
		MaxSpreadHops:   c.MaxSpreadHops,
		CrossesSpaces:   false,
	})
}

// handleSpreadingHealth serves GET /health/spreading: whether the association graph is
// being kept up to date, from the figures of every open space, summed (no space is named:
// /health routes answer without a key). 503 when a space's log failed, so its edges
// cannot be written.
func (s *Server) handleSpreadingHealth(rq *request) error {
	var open, failed, edges, queue int
	var lag time.Duration
	for _, sp := range s.eng.Spaces() {
		st := sp.Stats()
		if !st.Open {
			continue
		}
		open++
		edges += st.Edges
		queue += st.LinkQueue
		lag = max(lag, st.LinkLag)
		if st.Failed {
			failed++
		}
	}
	status, code := "healthy", http.StatusOK
	if failed > 0 || !s.healthy() {
		status, code = "unhealthy", http.StatusServiceUnavailable
		rq.ctx.Response.Header.Set("Retry-After", "5")
	}
	return writeJSON(rq.ctx, code, map[string]any{
		"status": status, "timestamp": jsonTime(time.Now()), "open_spaces": open, "failed_spaces": failed,
		"edges": edges, "link_queue": queue, "oldest_link_wait_ms": float64(lag) / float64(time.Millisecond),
	})
}
