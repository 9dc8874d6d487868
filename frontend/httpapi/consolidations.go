package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

// A belief is a consolidated (semantic) memory together with the episodes it cites. The
// routes report what the space really holds: no consolidated memory, no belief.

type belief struct {
	ID               string     `json:"id"`
	Content          string     `json:"content"`
	Strength         float32    `json:"strength"`
	SchemaConfidence float32    `json:"schema_confidence"`
	LastConsolidated jsonTime   `json:"last_consolidated"`
	Citations        []citation `json:"citations"`
	Stats            struct {
		EpisodeCount int `json:"episode_count"`
	} `json:"stats"`
}

type citation struct {
	EpisodeID      string  `json:"episode_id"`
	ContentPreview *string `json:"content_preview"` // null when the episode was forgotten since
}

type consolidationStats struct {
	Beliefs           int     `json:"beliefs"`
	EpisodesCited     int     `json:"episodes_cited"`
	ConsolidationRate float64 `json:"consolidation_rate"`
	Memories          int     `json:"memories"`
}

const previewRunes = 120

func previewOf(s string) string {
	if utf8.RuneCountInString(s) <= previewRunes {
		return s
	}
	n := 0
	for i := range s {
		if n == previewRunes {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

func isBelief(m *engine.Memory) bool { return m.Type == engine.Semantic && len(m.Citations) > 0 }

func newBelief(sp *engine.Space, m *engine.Memory) belief {
	b := belief{ID: m.ID, Content: m.Content, Strength: m.Confidence, SchemaConfidence: m.Confidence,
		LastConsolidated: jsonTime(m.StoredAt), Citations: make([]citation, 0, len(m.Citations))}
	for _, id := range m.Citations {
		c := citation{EpisodeID: id}
		if ep, err := sp.Get(id); err == nil {
			p := previewOf(ep.Content)
			c.ContentPreview = &p
		}
		b.Citations = append(b.Citations, c)
	}
	b.Stats.EpisodeCount = len(m.Citations)
	return b
}

// handleConsolidations serves GET /api/v1/consolidations: every belief of the space.
func (s *Server) handleConsolidations(rq *request) error {
	sp, id, err := rq.readSpace("")
	if err != nil {
		return err
	}
	out := struct {
		GeneratedAt   jsonTime           `json:"generated_at"`
		Beliefs       []belief           `json:"beliefs"`
		Stats         consolidationStats `json:"stats"`
		MemorySpaceID string             `json:"memory_space_id"`
	}{GeneratedAt: jsonTime(time.Now()), Beliefs: []belief{}, MemorySpaceID: id}
	if sp != nil {
		st := sp.Stats()
		// The engine has no index of semantic memories: one pass over the space.
		res, err := sp.List(engine.ListOptions{Limit: st.Memories + 1})
		if err != nil {
			return err
		}
		for i := range res.Memories {
			if m := &res.Memories[i]; isBelief(m) {
				b := newBelief(sp, m)
				out.Beliefs = append(out.Beliefs, b)
				out.Stats.EpisodesCited += len(m.Citations)
			}
		}
		out.Stats.Beliefs = len(out.Beliefs)
		out.Stats.ConsolidationRate = finite(st.ConsolidationRate)
		out.Stats.Memories = res.Total
	}
	return writeJSON(rq.ctx, http.StatusOK, &out)
}

// handleConsolidation serves GET /api/v1/consolidations/{id}.
func (s *Server) handleConsolidation(rq *request) error {
	sp, id, err := rq.readSpace("")
	if err != nil {
		return err
	}
	notFound := frontend.Errorf(http.StatusNotFound, frontend.CodeNotFound,
		fmt.Sprintf("no consolidated belief %q in space %q", rq.param, id))
	if sp == nil {
		return notFound
	}
	m, err := sp.Get(rq.param)
	if errors.Is(err, engine.ErrNotFound) || (err == nil && !isBelief(&m)) {
		return notFound
	}
	if err != nil {
		return err
	}
	return writeJSON(rq.ctx, http.StatusOK, newBelief(sp, &m))
}
