package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/engram-go/engram/client"
	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

// MaxListLimit bounds one page of GET /api/v1/memories.
const MaxListLimit = 1000

// handleList serves GET /api/v1/memories?tier=&offset=&limit=&include_embeddings=.
func (s *Server) handleList(rq *request) error {
	args := rq.ctx.QueryArgs()
	opts := engine.ListOptions{Tier: strings.ToLower(string(args.Peek("tier"))), Limit: 100}
	switch opts.Tier {
	case "", "all", "hot", "warm", "cold":
	default:
		return badRequest("tier must be hot, warm, cold or all, got %q", args.Peek("tier"))
	}
	var err error
	if opts.Offset, err = intArg(args.Peek("offset"), "offset", 0, 0, 1<<31-1); err != nil {
		return err
	}
	if opts.Limit, err = intArg(args.Peek("limit"), "limit", 100, 1, MaxListLimit); err != nil {
		return err
	}
	if opts.WithEmbeddings, err = boolArg(args, "include_embeddings"); err != nil {
		return err
	}
	sp, id, err := rq.readSpace("")
	if err != nil {
		return err
	}
	a := client.ListResponse{Memories: []client.ListEntry{}, MemorySpaceID: id}
	a.Pagination.Offset, a.Pagination.Limit = opts.Offset, opts.Limit
	if sp != nil {
		res, err := sp.List(opts)
		if err != nil {
			return err
		}
		for _, m := range res.Memories {
			// ObservedAt is never zero for a stored memory, so it encodes as jsonTime would.
			e := client.ListEntry{ID: m.ID, Content: m.Content, Confidence: m.Confidence, Timestamp: m.ObservedAt.UTC(), Tier: m.Tier.String()}
			if opts.WithEmbeddings {
				e.Embedding = m.Embedding
				if e.Embedding == nil {
					e.Embedding = []float32{}
				}
			}
			a.Memories = append(a.Memories, e)
		}
		a.Count = res.Total
		a.TierCounts.Hot, a.TierCounts.Warm, a.TierCounts.Cold = res.Hot, res.Warm, res.Cold
		a.TierCounts.Total = res.Hot + res.Warm + res.Cold
	}
	a.Pagination.Returned = len(a.Memories)
	return writeJSON(rq.ctx, http.StatusOK, &a)
}

// intArg parses an optional integer query parameter within [lo, hi].
func intArg(v []byte, name string, def, lo, hi int) (int, error) {
	if len(v) == 0 {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(v)))
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s must be an integer from %d to %d, got %q", name, lo, hi, v)
	}
	return n, nil
}

// memoryJSON is a memory with every stored field.
type memoryJSON struct {
	ID            string         `json:"id"`
	Content       string         `json:"content"`
	Embedding     []float32      `json:"embedding"`
	Confidence    confidenceInfo `json:"confidence"`
	ObservedAt    jsonTime       `json:"observed_at"`
	StoredAt      jsonTime       `json:"stored_at"`
	LastAccess    jsonTime       `json:"last_access"`
	AccessCount   uint32         `json:"access_count"`
	Tags          []string       `json:"tags"`
	MemoryType    string         `json:"memory_type"`
	Tier          string         `json:"tier"`
	Episode       *episodeJSON   `json:"episode,omitempty"`
	Citations     []string       `json:"citations,omitempty"`
	MemorySpaceID string         `json:"memory_space_id"`
}

type episodeJSON struct {
	WhereLocation    string   `json:"where_location"`
	Who              []string `json:"who"`
	Why              string   `json:"why"`
	How              string   `json:"how"`
	EmotionalValence float32  `json:"emotional_valence"`
	Importance       float32  `json:"importance"`
}

func newMemoryJSON(space string, m *engine.Memory) *memoryJSON {
	out := &memoryJSON{
		ID: m.ID, Content: m.Content, Embedding: m.Embedding,
		Confidence:  newConfidence(m.Confidence, "The confidence stored with this memory."),
		ObservedAt:  jsonTime(m.ObservedAt),
		StoredAt:    jsonTime(m.StoredAt),
		LastAccess:  jsonTime(m.LastAccess),
		AccessCount: m.AccessCount,
		Tags:        m.Tags, MemoryType: m.Type.String(), Tier: m.Tier.String(),
		Citations: m.Citations, MemorySpaceID: space,
	}
	if out.Embedding == nil {
		out.Embedding = []float32{}
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if e := m.Episode; e != nil {
		who := e.Who
		if who == nil {
			who = []string{}
		}
		out.Episode = &episodeJSON{WhereLocation: e.Where, Who: who, Why: e.Why, How: e.How,
			EmotionalValence: e.EmotionalValence, Importance: e.Importance}
	}
	return out
}

// handleGet serves GET /api/v1/memories/{id}.
func (s *Server) handleGet(rq *request) error {
	sp, id, err := rq.readSpace("")
	if err != nil {
		return err
	}
	if sp == nil {
		return memoryNotFound(rq.param, id)
	}
	m, err := sp.Get(rq.param)
	if err != nil {
		return err
	}
	return writeJSON(rq.ctx, http.StatusOK, newMemoryJSON(sp.ID(), &m))
}

// handleDelete serves DELETE /api/v1/memories/{id}: it answers after the tombstone is
// durable. It never creates a space.
func (s *Server) handleDelete(rq *request) error {
	sp, id, err := rq.readSpace("")
	if err != nil {
		return err
	}
	if sp == nil {
		return memoryNotFound(rq.param, id)
	}
	if err := sp.Forget(context.Background(), rq.param); err != nil {
		return err
	}
	b := getBuf()
	dst := append(*b, `{"memory_id":`...)
	dst = appendString(dst, rq.param)
	dst = append(dst, `,"forgotten":true,"memory_space_id":`...)
	dst = appendString(dst, sp.ID())
	dst = append(dst, '}')
	writeRaw(rq.ctx, http.StatusOK, dst)
	*b = dst
	putBuf(b)
	return nil
}

func memoryNotFound(memID, space string) *frontend.Error {
	return frontend.Errorf(http.StatusNotFound, frontend.CodeMemoryNotFound,
		fmt.Sprintf("memory %q not found in space %q", memID, space))
}

type searchEntry struct {
	ID         string         `json:"id"`
	Content    string         `json:"content"`
	Score      float32        `json:"score"`
	Confidence confidenceInfo `json:"confidence"`
	ObservedAt jsonTime       `json:"observed_at"`
	Tags       []string       `json:"tags"`
	MemoryType string         `json:"memory_type"`
}

// handleSearch serves GET /api/v1/memories/search?query=&limit= (lexical, BM25).
func (s *Server) handleSearch(rq *request) error {
	args := rq.ctx.QueryArgs()
	query := string(args.Peek("query"))
	if query == "" {
		query = string(args.Peek("q"))
	}
	if strings.TrimSpace(query) == "" {
		return badRequest("query is required")
	}
	limit, err := intArg(args.Peek("limit"), "limit", 10, 1, engine.MaxMaxResults)
	if err != nil {
		return err
	}
	sp, id, err := rq.readSpace("")
	if err != nil {
		return err
	}
	out := struct {
		Memories      []searchEntry `json:"memories"`
		Total         int           `json:"total"`
		MemorySpaceID string        `json:"memory_space_id"`
	}{Memories: []searchEntry{}, MemorySpaceID: id}
	if sp != nil {
		hits, err := sp.Search(query, limit)
		if err != nil {
			return err
		}
		for _, h := range hits {
			tags := h.Memory.Tags
			if tags == nil {
				tags = []string{}
			}
			out.Memories = append(out.Memories, searchEntry{
				ID: h.Memory.ID, Content: h.Memory.Content, Score: finite32(h.Score),
				Confidence: newConfidence(h.Memory.Confidence, "The confidence stored with this memory."),
				ObservedAt: jsonTime(h.Memory.ObservedAt), Tags: tags, MemoryType: h.Memory.Type.String(),
			})
		}
	}
	out.Total = len(out.Memories)
	return writeJSON(rq.ctx, http.StatusOK, &out)
}
