package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

// handleRemember serves POST /api/v1/memories/remember and POST /api/v1/memories.
func (s *Server) handleRemember(rq *request) error {
	root, vec, err := rq.memoryBody()
	if err != nil {
		return err
	}
	in := rememberInput{vec: vec}
	if err := decodeRemember(root, s.opts.MaxContentBytes, &in); err != nil {
		return err
	}
	return s.remember(rq, &in)
}

// handleEpisode serves POST /api/v1/episodes/remember.
func (s *Server) handleEpisode(rq *request) error {
	root, vec, err := rq.memoryBody()
	if err != nil {
		return err
	}
	in := rememberInput{vec: vec}
	if err := decodeEpisode(root, s.opts.MaxContentBytes, &in); err != nil {
		return err
	}
	return s.remember(rq, &in)
}

// replayedHeader marks the answer to a retried remember whose Idempotency-Key names a
// memory already stored: nothing was written again.
const replayedHeader = "Idempotent-Replayed"

func (s *Server) remember(rq *request, in *rememberInput) error {
	sp, err := rq.writeSpace(in.space)
	if err != nil {
		return err
	}
	if err := rq.srv.opts.Limits.AllowRemember(sp, 1); err != nil {
		return err
	}
	// The request's own context would be cancelled when the server starts shutting down;
	// an accepted write is carried to the end instead.
	res, replayed, err := s.opts.Idempotency.Remember(context.Background(), sp, in.mem, in.opts,
		string(rq.ctx.Request.Header.Peek(frontend.IdempotencyHeader)))
	if err != nil {
		return err
	}
	if replayed {
		rq.ctx.Response.Header.Set(replayedHeader, "true")
	}
	b := getBuf()
	*b = appendRememberAnswer(*b, sp, &res, in)
	writeRaw(rq.ctx, http.StatusCreated, *b)
	putBuf(b)
	return nil
}

// appendRememberAnswer encodes {memory_id, storage_confidence, consolidation_state,
// observed_at, stored_at, auto_links, system_message, memory_space_id}.
func appendRememberAnswer(dst []byte, sp *engine.Space, res *engine.RememberResult, in *rememberInput) []byte {
	m := &res.Memory
	dst = append(dst, `{"memory_id":`...)
	dst = appendString(dst, m.ID)
	dst = append(dst, `,"storage_confidence":`...)
	dst = appendConfidence(dst, m.Confidence, in.confidenceSet)
	dst = append(dst, `,"consolidation_state":"Recent","observed_at":`...)
	dst = appendTime(dst, m.ObservedAt)
	dst = append(dst, `,"stored_at":`...)
	dst = appendTime(dst, m.StoredAt)
	dst = append(dst, `,"auto_links":[`...)
	for i, l := range res.Links {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"target_memory_id":`...)
		dst = appendString(dst, l.TargetID)
		dst = append(dst, `,"similarity_score":`...)
		dst = appendFloat32(dst, l.Similarity)
		dst = append(dst, `,"link_reason":`...)
		dst = appendString(dst, l.Reason)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"system_message":`...)
	dst = appendRememberMessage(dst, sp, res, in.opts.AutoLink)
	dst = append(dst, `,"memory_space_id":`...)
	dst = appendString(dst, sp.ID())
	return append(dst, '}')
}

// appendConfidence encodes a ConfidenceInfo {value, category, reasoning}; given says whether
// the client chose the value.
func appendConfidence(dst []byte, v float32, given bool) []byte {
	dst = append(dst, `{"value":`...)
	dst = appendFloat32(dst, v)
	dst = append(dst, `,"category":`...)
	dst = appendString(dst, engine.ConfidenceCategory(v))
	dst = append(dst, `,"reasoning":`...)
	dst = appendStorageReasoning(dst, v, given)
	return append(dst, '}')
}

// appendStorageReasoning appends, as a JSON string, where a stored confidence came from.
func appendStorageReasoning(dst []byte, v float32, given bool) []byte {
	if !given {
		dst = append(dst, `"No confidence was given; the default `...)
		dst = strconv.AppendFloat(dst, float64(v), 'f', 2, 32)
		return append(dst, ` applies."`...)
	}
	dst = append(dst, `"Stored with the confidence the client gave (`...)
	dst = strconv.AppendFloat(dst, float64(v), 'f', 2, 32)
	dst = append(dst, ", "...)
	dst = append(dst, engine.ConfidenceCategory(v)...)
	return append(dst, `)."`...)
}

// appendRememberMessage appends the answer's system message as a JSON string: it says
// honestly how durable the write is under the space's sync mode.
func appendRememberMessage(dst []byte, sp *engine.Space, res *engine.RememberResult, autoLink bool) []byte {
	dst = append(dst, `"Memory `...)
	dst = appendEscaped(dst, res.Memory.ID)
	dst = append(dst, " stored in space '"...)
	dst = appendEscaped(dst, sp.ID())
	dst = append(dst, "': "...)
	switch sp.Settings().WALSync {
	case "interval":
		dst = append(dst, "logged; the write-ahead log is flushed to disk within the sync interval"...)
	case "never":
		dst = append(dst, "logged without flushing the write-ahead log to disk (wal_sync = never)"...)
	default:
		dst = append(dst, "durably logged (write-ahead log flushed to disk)"...)
	}
	if !autoLink {
		return append(dst, `; association edges are built in the background."`...)
	}
	dst = append(dst, "; "...)
	dst = strconv.AppendInt(dst, int64(len(res.Links)), 10)
	return append(dst, ` association edges built."`...)
}
