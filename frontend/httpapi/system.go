package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/engram-go/engram/client"
	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

type healthAnswer struct {
	Status    string               `json:"status"`
	Timestamp jsonTime             `json:"timestamp"`
	Spaces    []client.SpaceHealth `json:"spaces"`
}

// healthy reports whether the server can serve: not stopping, engine open.
func (s *Server) healthy() bool {
	select {
	case <-s.done:
		return false
	default:
	}
	_, err := s.eng.Space(engine.DefaultSpace)
	return !errors.Is(err, engine.ErrClosed)
}

// handleSystemHealth serves GET /api/v1/system/health[?space=]: one entry per space, or
// only the space named by the header or query parameter (the usual rule); an unknown
// space gives an empty list. 503 when unhealthy.
func (s *Server) handleSystemHealth(rq *request) error {
	a := healthAnswer{Status: "healthy", Timestamp: jsonTime(time.Now()), Spaces: []client.SpaceHealth{}}
	status := http.StatusOK
	if !s.healthy() {
		a.Status, status = "unhealthy", http.StatusServiceUnavailable
		rq.ctx.Response.Header.Set("Retry-After", "5")
	} else {
		spaces := rq.visibleSpaces()
		if rq.pinned != "" || rq.headerSpace() != "" || rq.querySpace() != "" {
			id, err := rq.spaceID("")
			if err != nil {
				return err
			}
			spaces = spaces[:0:0]
			if sp, err := s.eng.Space(id); err == nil {
				spaces = append(spaces, sp)
			}
		}
		for _, sp := range spaces {
			st := sp.Stats()
			if st.Failed {
				// A space whose log failed cannot take writes until it recovers.
				a.Status, status = "unhealthy", http.StatusServiceUnavailable
				rq.ctx.Response.Header.Set("Retry-After", "2")
			}
			a.Spaces = append(a.Spaces, newHealthSpace(st))
		}
	}
	return writeJSON(rq.ctx, status, &a)
}

func newHealthSpace(st engine.Stats) client.SpaceHealth {
	h := client.SpaceHealth{
		Space:             st.ID,
		Memories:          st.Memories,
		Pressure:          finite(st.Pressure),
		WALLagMS:          ms(st.WALLag.Seconds()),
		ConsolidationRate: finite(st.ConsolidationRate),
	}
	h.Tiers.Hot, h.Tiers.Warm, h.Tiers.Cold = st.Hot, st.Warm, st.Cold
	return h
}

// handleHealth serves GET /health: {status, service, version, timestamp}.
func (s *Server) handleHealth(rq *request) error {
	status, code := "healthy", http.StatusOK
	if !s.healthy() {
		status, code = "unhealthy", http.StatusServiceUnavailable
		rq.ctx.Response.Header.Set("Retry-After", "5")
	}
	version := s.opts.Version
	if version == "" {
		version = "dev"
	}
	return writeJSON(rq.ctx, code, map[string]any{
		"status": status, "service": "engram", "version": version, "timestamp": jsonTime(time.Now()),
	})
}

// handleAlive serves GET /health/alive: the process answers.
func (s *Server) handleAlive(rq *request) error {
	writeRaw(rq.ctx, http.StatusOK, []byte(`{"status":"alive"}`))
	return nil
}

// handleShutdown serves POST /shutdown. Without auth only loopback callers may use it;
// with auth on, a key with admin scope is required (from any address).
func (s *Server) handleShutdown(rq *request) error {
	switch {
	case s.opts.Auth != nil:
		if rq.principal == nil || !rq.principal.Admin {
			return frontend.Errorf(http.StatusForbidden, frontend.CodeForbidden, "shutdown needs a key with admin scope")
		}
	case !rq.ctx.RemoteIP().IsLoopback():
		return frontend.Errorf(http.StatusForbidden, frontend.CodeForbidden, "shutdown is accepted from loopback callers only")
	}
	if s.opts.Shutdown == nil {
		return frontend.Errorf(http.StatusNotImplemented, frontend.CodeUnimplemented, "this server was started without a shutdown hook")
	}
	s.log.Info("shutdown requested over HTTP", "remote", rq.ctx.RemoteAddr().String())
	go s.opts.Shutdown()
	writeRaw(rq.ctx, http.StatusOK, []byte(`{"status":"shutdown_initiated"}`))
	return nil
}
