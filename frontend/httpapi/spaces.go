package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/engram-go/engram/client"
	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

type spaceEntry struct {
	ID              string   `json:"id"`
	Memories        int      `json:"memories"`
	CreatedAt       jsonTime `json:"created_at"`
	PersistenceRoot string   `json:"persistence_root"`
}

type spaceDetails struct {
	spaceEntry
	Settings engine.SpaceSettings `json:"settings"`
	Stats    client.SpaceStats    `json:"stats"`
	Created  *bool                `json:"created,omitempty"`
}

func newSpaceEntry(sp *engine.Space, st *engine.Stats) spaceEntry {
	return spaceEntry{ID: sp.ID(), Memories: st.Memories, CreatedAt: jsonTime(sp.CreatedAt()), PersistenceRoot: sp.Dir()}
}

func newSpaceDetails(sp *engine.Space) *spaceDetails {
	st := sp.Stats()
	return &spaceDetails{
		spaceEntry: newSpaceEntry(sp, &st),
		Settings:   sp.Settings(),
		Stats: client.SpaceStats{
			Hot: st.Hot, Warm: st.Warm, Cold: st.Cold, HotCapacity: st.HotCapacity,
			Pressure: finite(st.Pressure), WALLagMS: ms(st.WALLag.Seconds()), WALBytes: st.WALBytes,
			WALSegments: st.WALSegments, LSN: st.LSN, DurableLSN: st.DurableLSN,
			ConsolidationRate: finite(st.ConsolidationRate), LinkQueue: st.LinkQueue,
			LinkLagMS: ms(st.LinkLag.Seconds()), IndexLag: st.IndexLag, IndexedRows: st.IndexedRows,
			IndexLagWorkMS: ms(st.IndexLagWork.Seconds()), LinkLagWorkMS: ms(st.LinkLagWork.Seconds()),
			BackgroundShare: finite(st.BackgroundShare), Edges: st.Edges, Dimension: st.Dimension, Open: st.Open,
		},
	}
}

func ms(seconds float64) float64 { return finite(seconds * 1000) }

// visibleSpaces are the spaces a request may see: the pinned one on a dedicated listener,
// those of its key when auth is on, else all.
func (rq *request) visibleSpaces() []*engine.Space {
	var out []*engine.Space
	for _, sp := range rq.srv.eng.Spaces() {
		if rq.maySee(sp.ID()) {
			out = append(out, sp)
		}
	}
	return out
}

// maySee reports whether the request may see space id: it is the pinned one on a
// dedicated listener, and its key's when auth is on.
func (rq *request) maySee(id string) bool {
	return (rq.pinned == "" || id == rq.pinned) && (rq.principal == nil || rq.principal.MaySpace(id))
}

// handleSpaces serves GET /api/v1/spaces, sorted by id. In a cluster it lists every space
// of the cluster: those served here from this node, the others as their owners list them
// (docs/cluster.md, "Listing spaces").
func (s *Server) handleSpaces(rq *request) error {
	ctx, cancel := context.WithTimeout(context.Background(), forwardTimeout)
	defer cancel()
	l, err := frontend.ListSpaces(ctx, &s.opts, string(rq.ctx.Request.Header.Peek(frontend.ForwardedByHeader)), rq.maySee)
	if err != nil {
		return err
	}
	out := struct {
		Spaces []spaceEntry `json:"spaces"`
	}{Spaces: make([]spaceEntry, 0, len(l.Local))}
	for _, sp := range l.Local {
		st := sp.Stats()
		out.Spaces = append(out.Spaces, newSpaceEntry(sp, &st))
	}
	if len(l.Remote) > 0 {
		auth := string(rq.ctx.Request.Header.Peek("Authorization"))
		remote, err := frontend.Gather(ctx, l, func(ctx context.Context, o frontend.Owner) ([]client.SpaceEntry, error) {
			return frontend.OwnerSpaces(ctx, s.forwards, o, s.opts.NodeID, auth, &s.opts.Forwards.HTTP)
		}, func(e client.SpaceEntry) string { return e.ID })
		if err != nil {
			return err
		}
		for _, e := range remote {
			out.Spaces = append(out.Spaces, spaceEntry{ID: e.ID, Memories: e.Memories, CreatedAt: jsonTime(e.CreatedAt), PersistenceRoot: e.PersistenceRoot})
		}
		slices.SortFunc(out.Spaces, func(a, b spaceEntry) int { return strings.Compare(a.ID, b.ID) })
	}
	return writeJSON(rq.ctx, http.StatusOK, &out)
}

// pathSpace checks the {id} of a spaces route: a valid id, equal to the pinned space on
// a dedicated listener, allowed by the key.
func (rq *request) pathSpace(raw, source string) (string, error) {
	id, err := engine.NormalizeSpaceID(raw)
	if err != nil {
		return "", fmt.Errorf("%w (from the %s)", err, source)
	}
	if rq.pinned != "" && id != rq.pinned {
		return "", badRequest("the %s names memory space %q but this listener serves only %q", source, id, rq.pinned)
	}
	if err := rq.allowSpace(id); err != nil {
		return "", err
	}
	return id, rq.route(id)
}

// createSpaceBody is the body of POST /api/v1/spaces: the id plus optional settings.
type createSpaceBody struct {
	ID string `json:"id"`
	engine.SpaceSettings
}

// handleCreateSpace serves POST /api/v1/spaces → 201 created, 200 when it existed.
func (s *Server) handleCreateSpace(rq *request) error {
	// Checked, not parsed into values: the decoder below skips an unknown field's value
	// without building it, then refuses the field.
	raw, err := rq.checkedObject()
	if err != nil {
		return err
	}
	var body createSpaceBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return settingsError(err)
	}
	if dec.More() {
		return badRequest("the request body holds more than one JSON value")
	}
	if body.ID == "" {
		return invalidInput("id is required")
	}
	id, err := rq.pathSpace(body.ID, "id body field")
	if err != nil {
		return err
	}
	if body.HTTPListen != "" {
		return invalidInput("http_listen is set in the configuration file, not at create time")
	}
	sp, created, err := s.eng.CreateSpace(id, body.SpaceSettings)
	if err != nil {
		return err
	}
	d := newSpaceDetails(sp)
	d.Created = &created
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return writeJSON(rq.ctx, status, d)
}

// settingsError names the field of a rejected create body.
func settingsError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return invalidInput("%s must be a %s", te.Field, te.Type)
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON body: %v", err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return invalidInput("unknown field %s; accepted: id, hot_capacity, warm_capacity, cold_capacity, dimension, rate_limit, wal_sync, wal_segment_bytes",
			strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return badRequest("%v", err)
}

// handleGetSpace serves GET /api/v1/spaces/{id}.
func (s *Server) handleGetSpace(rq *request) error {
	id, err := rq.pathSpace(rq.param, "path")
	if err != nil {
		return err
	}
	sp, err := s.eng.Space(id)
	if err != nil {
		return err
	}
	return writeJSON(rq.ctx, http.StatusOK, newSpaceDetails(sp))
}

// handleDeleteSpace serves DELETE /api/v1/spaces/{id}: 200 once its folder is gone, 409
// for the default space.
func (s *Server) handleDeleteSpace(rq *request) error {
	id, err := rq.pathSpace(rq.param, "path")
	if err != nil {
		return err
	}
	if err := s.eng.DeleteSpace(id); err != nil {
		return err
	}
	return writeJSON(rq.ctx, http.StatusOK, map[string]any{"id": id, "deleted": true})
}
