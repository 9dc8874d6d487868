package mcpapi

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

// idArgs are the arguments of get_memory and forget.
type idArgs struct {
	ID          string `json:"id" jsonschema:"the memory id, as returned by remember or recall"`
	MemorySpace string `json:"memory_space,omitempty" jsonschema:"memory space of the memory, when the connection does not pin one"`
}

// memoryInfo is one stored memory.
type memoryInfo struct {
	ID          string       `json:"id"`
	Content     string       `json:"content"`
	MemoryType  string       `json:"memory_type"`
	Confidence  float32      `json:"confidence"`
	Tags        []string     `json:"tags"`
	ObservedAt  string       `json:"observed_at"`
	StoredAt    string       `json:"stored_at"`
	LastAccess  string       `json:"last_access,omitempty"`
	AccessCount uint32       `json:"access_count"`
	Tier        string       `json:"tier"`
	Episode     *episodeInfo `json:"episode,omitempty"`
	Citations   []string     `json:"citations,omitempty"`
}

type episodeInfo struct {
	Where            string   `json:"where,omitempty"`
	Who              []string `json:"who,omitempty"`
	Why              string   `json:"why,omitempty"`
	How              string   `json:"how,omitempty"`
	EmotionalValence float32  `json:"emotional_valence"`
	Importance       float32  `json:"importance"`
}

type getResult struct {
	MemorySpaceID string     `json:"memory_space_id"`
	Memory        memoryInfo `json:"memory"`
}

type forgetResult struct {
	MemorySpaceID string `json:"memory_space_id"`
	MemoryID      string `json:"memory_id"`
	Forgotten     bool   `json:"forgotten"`
}

// existing resolves the space of a memory id; a space that does not exist holds no memory.
func (s *Server) existing(req *mcp.CallToolRequest, a idArgs) (*engine.Space, error) {
	if strings.TrimSpace(a.ID) == "" {
		return nil, invalid("id must not be empty")
	}
	sp, id, err := s.readSpace(s.callerOf(req.Extra), a.MemorySpace)
	if err != nil {
		return nil, err
	}
	if sp == nil {
		return nil, frontend.Errorf(404, frontend.CodeMemoryNotFound, fmt.Sprintf("memory %q not found in space %q", a.ID, id))
	}
	return sp, nil
}

func (s *Server) get(ctx context.Context, req *mcp.CallToolRequest, a idArgs) (*mcp.CallToolResult, getResult, error) {
	sp, err := s.existing(req, a)
	if fw, ok := frontend.AsForward(err); ok {
		return s.remoteGet(ctx, req, fw, a.ID)
	}
	if err != nil {
		return nil, getResult{}, toolError(err)
	}
	m, err := sp.Get(a.ID)
	if err != nil {
		return nil, getResult{}, toolError(err)
	}
	out := getResult{MemorySpaceID: sp.ID(), Memory: memoryInfoOf(&m)}
	return textResult(getText(&out)), out, nil
}

func getText(r *getResult) string {
	return fmt.Sprintf("Memory %s in space '%s' (%s, confidence %.2f): %s",
		r.Memory.ID, r.MemorySpaceID, r.Memory.MemoryType, r.Memory.Confidence, r.Memory.Content)
}

func (s *Server) forget(ctx context.Context, req *mcp.CallToolRequest, a idArgs) (*mcp.CallToolResult, forgetResult, error) {
	sp, err := s.existing(req, a)
	if fw, ok := frontend.AsForward(err); ok {
		return s.remoteForget(ctx, req, fw, a.ID)
	}
	if err != nil {
		return nil, forgetResult{}, toolError(err)
	}
	if err := sp.Forget(context.WithoutCancel(ctx), a.ID); err != nil {
		return nil, forgetResult{}, toolError(err)
	}
	out := forgetResult{MemorySpaceID: sp.ID(), MemoryID: a.ID, Forgotten: true}
	return textResult(forgetText(&out)), out, nil
}

func forgetText(r *forgetResult) string {
	return fmt.Sprintf("Forgot memory %s in space '%s'.", r.MemoryID, r.MemorySpaceID)
}

func memoryInfoOf(m *engine.Memory) memoryInfo {
	out := memoryInfo{
		ID: m.ID, Content: m.Content, MemoryType: m.Type.String(), Confidence: finite(m.Confidence),
		Tags: nonNil(m.Tags), ObservedAt: stamp(m.ObservedAt), StoredAt: stamp(m.StoredAt),
		AccessCount: m.AccessCount, Tier: m.Tier.String(), Citations: m.Citations,
	}
	if !m.LastAccess.IsZero() {
		out.LastAccess = stamp(m.LastAccess)
	}
	if e := m.Episode; e != nil {
		out.Episode = &episodeInfo{Where: e.Where, Who: e.Who, Why: e.Why, How: e.How,
			EmotionalValence: finite(e.EmotionalValence), Importance: finite(e.Importance)}
	}
	return out
}

// textResult is a tool result whose readable text accompanies the structured content.
func textResult(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// finite keeps NaN and infinities, which JSON cannot carry, out of an answer.
func finite(v float32) float32 {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return 0
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
