package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

type replayedEpisode struct {
	*memoryJSON
	Retention float64 `json:"retention"`
}

type replayAnswer struct {
	Episodes         []replayedEpisode  `json:"episodes"`
	RecallVividness  confidenceInfo     `json:"recall_vividness"`
	EmotionalSummary map[string]float64 `json:"emotional_summary"`
	MemoryThemes     []string           `json:"memory_themes"`
	MemorySpaceID    string             `json:"memory_space_id"`
}

// handleReplay serves GET /api/v1/episodes/replay: the space's episodes around a time, at
// a place, with people or about a topic (Space.Reminisce), with how vivid they are.
func (s *Server) handleReplay(rq *request) error {
	args := rq.ctx.QueryArgs()
	var (
		q   engine.EpisodeQuery
		err error
	)
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"around", &q.Around}, {"from", &q.From}, {"to", &q.To}} {
		if v := strings.TrimSpace(string(args.Peek(t.name))); v != "" {
			if *t.dst, err = parseTime(v); err != nil {
				return badRequest("%s must be an RFC 3339 time such as 2024-05-01T12:00:00Z, got %q", t.name, v)
			}
		}
	}
	if v := string(args.Peek("window")); v != "" {
		if q.Window, err = time.ParseDuration(v); err != nil || q.Window <= 0 {
			return badRequest("window must be a positive duration such as 2h or 30m, got %q", v)
		}
	}
	q.Where = string(args.Peek("where"))
	if q.Where == "" {
		q.Where = string(args.Peek("location"))
	}
	q.Who = splitList(string(args.Peek("who")))
	q.Topic = strings.TrimSpace(string(args.Peek("topic")))
	if v := string(args.Peek("limit")); v != "" {
		if q.Limit, err = strconv.Atoi(v); err != nil || q.Limit < 1 || q.Limit > engine.MaxMaxResults {
			return badRequest("limit must be a whole number from 1 to %d, got %q", engine.MaxMaxResults, v)
		}
	}
	emotional, err := boolArg(args, "include_emotional")
	if err != nil {
		return err
	}
	if err := q.Validate(); err != nil {
		return err
	}
	sp, id, err := rq.readSpace("")
	if err != nil {
		return err
	}
	var eps []engine.RecalledEpisode
	if sp != nil {
		if eps, err = sp.Reminisce(context.Background(), q); err != nil {
			return err
		}
	}
	sum := frontend.SummarizeEpisodes(eps)
	a := replayAnswer{Episodes: make([]replayedEpisode, len(eps)), MemoryThemes: sum.Themes, MemorySpaceID: id,
		RecallVividness: newConfidence(float32(sum.Vividness), sum.Reasoning)}
	for i := range eps {
		a.Episodes[i] = replayedEpisode{memoryJSON: newMemoryJSON(id, &eps[i].Memory), Retention: finite(eps[i].Retention)}
	}
	if emotional {
		a.EmotionalSummary = sum.Emotional
	}
	return writeJSON(rq.ctx, http.StatusOK, &a)
}
