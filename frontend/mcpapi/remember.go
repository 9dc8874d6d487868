package mcpapi

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

// rememberArgs are the arguments of the remember tool.
type rememberArgs struct {
	Content       string   `json:"content" jsonschema:"the text to remember: a fact, decision, preference or observation, self-contained enough to be useful when recalled later"`
	MemoryType    string   `json:"memory_type,omitempty" jsonschema:"episodic (something that happened; the default), semantic (general knowledge) or procedural (how to do something)"`
	Confidence    *float64 `json:"confidence,omitempty" jsonschema:"how sure you are of it, 0 to 1 (default 0.7)"`
	Tags          []string `json:"tags,omitempty" jsonschema:"labels to filter recalls by, e.g. project names"`
	ID            string   `json:"id,omitempty" jsonschema:"a memory id of your choice (1-128 of A-Z a-z 0-9 . _ : -); remembering the same id again replaces the memory. Omit to get a generated id"`
	Timestamp     string   `json:"timestamp,omitempty" jsonschema:"when it was observed, RFC 3339 (default now)"`
	AutoLink      bool     `json:"auto_link,omitempty" jsonschema:"wait for the memory's association edges and list them in the answer"`
	LinkThreshold *float64 `json:"link_threshold,omitempty" jsonschema:"minimum similarity, 0 to 1, for an association edge (default 0.4)"`
	MemorySpace   string   `json:"memory_space,omitempty" jsonschema:"memory space to store in, when the connection does not pin one (default: the default space)"`
}

// episodeArgs are the arguments of the remember_episode tool.
type episodeArgs struct {
	What             string   `json:"what" jsonschema:"what happened, in a sentence or a paragraph"`
	When             string   `json:"when" jsonschema:"when it happened, RFC 3339, e.g. 2026-05-01T14:00:00Z"`
	Where            string   `json:"where,omitempty" jsonschema:"where it happened"`
	Who              []string `json:"who,omitempty" jsonschema:"who took part"`
	Why              string   `json:"why,omitempty" jsonschema:"why it happened"`
	How              string   `json:"how,omitempty" jsonschema:"how it happened"`
	Importance       *float64 `json:"importance,omitempty" jsonschema:"how much it matters, 0 to 1 (default 0.7); stored as the memory's confidence"`
	EmotionalValence float64  `json:"emotional_valence,omitempty" jsonschema:"how it felt, -1 (bad) to 1 (good)"`
	Tags             []string `json:"tags,omitempty" jsonschema:"labels to filter recalls by"`
	ID               string   `json:"id,omitempty" jsonschema:"a memory id of your choice; omit to get a generated id"`
	MemorySpace      string   `json:"memory_space,omitempty" jsonschema:"memory space to store in, when the connection does not pin one"`
}

// rememberResult is the structured answer of both remember tools.
type rememberResult struct {
	MemoryID      string     `json:"memory_id"`
	MemorySpaceID string     `json:"memory_space_id"`
	MemoryType    string     `json:"memory_type"`
	Confidence    float32    `json:"confidence"`
	ObservedAt    string     `json:"observed_at"`
	StoredAt      string     `json:"stored_at"`
	Durability    string     `json:"durability"`
	AutoLinks     []linkInfo `json:"auto_links"`
}

type linkInfo struct {
	TargetMemoryID string  `json:"target_memory_id"`
	Similarity     float32 `json:"similarity"`
	Reason         string  `json:"reason"`
}

func (s *Server) remember(ctx context.Context, req *mcp.CallToolRequest, a rememberArgs) (*mcp.CallToolResult, rememberResult, error) {
	m, err := s.memoryOf(a)
	if err != nil {
		return nil, rememberResult{}, toolError(err)
	}
	opts := engine.RememberOptions{AutoLink: a.AutoLink}
	if a.LinkThreshold != nil {
		opts.LinkThreshold = float32(*a.LinkThreshold)
	}
	return s.store(ctx, req, a.MemorySpace, m, opts)
}

func (s *Server) rememberEpisode(ctx context.Context, req *mcp.CallToolRequest, a episodeArgs) (*mcp.CallToolResult, rememberResult, error) {
	m, err := s.episodeOf(a)
	if err != nil {
		return nil, rememberResult{}, toolError(err)
	}
	return s.store(ctx, req, a.MemorySpace, m, engine.RememberOptions{})
}

func (s *Server) memoryOf(a rememberArgs) (engine.Memory, error) {
	m := engine.Memory{Content: a.Content, ID: a.ID, Tags: a.Tags, Confidence: engine.DefaultConfid}
	if err := s.checkText("content", a.Content, a.ID); err != nil {
		return m, err
	}
	t, err := engine.ParseMemoryType(strings.ToLower(strings.TrimSpace(a.MemoryType)))
	if err != nil {
		return m, invalid("memory_type must be episodic, semantic or procedural, got %q", a.MemoryType)
	}
	m.Type = t
	if a.Confidence != nil {
		m.Confidence = float32(*a.Confidence)
	}
	if a.Timestamp != "" {
		if m.ObservedAt, err = parseTime("timestamp", a.Timestamp); err != nil {
			return m, err
		}
	}
	return m, nil
}

func (s *Server) episodeOf(a episodeArgs) (engine.Memory, error) {
	m := engine.Memory{Content: a.What, ID: a.ID, Tags: a.Tags, Type: engine.Episodic, Confidence: engine.DefaultConfid}
	if err := s.checkText("what", a.What, a.ID); err != nil {
		return m, err
	}
	if strings.TrimSpace(a.When) == "" {
		return m, invalid("when is required (an RFC 3339 time)")
	}
	var err error
	if m.ObservedAt, err = parseTime("when", a.When); err != nil {
		return m, err
	}
	if a.Importance != nil {
		m.Confidence = float32(*a.Importance)
	}
	m.Episode = &engine.Episode{Where: a.Where, Who: a.Who, Why: a.Why, How: a.How,
		EmotionalValence: float32(a.EmotionalValence), Importance: m.Confidence}
	return m, nil
}

// checkText validates the memory's text and client-chosen id before any side effect.
func (s *Server) checkText(field, text, id string) error {
	if err := frontend.CheckContent(field, text, s.opts.MaxContentBytes); err != nil {
		return err
	}
	if id != "" {
		if err := engine.ValidateID(id); err != nil {
			return invalid("id: %s", strings.TrimPrefix(err.Error(), engine.ErrInvalidInput.Error()+": "))
		}
	}
	return nil
}

func parseTime(field, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
	if err != nil {
		return time.Time{}, invalid("%s must be an RFC 3339 time such as 2026-05-01T12:00:00Z, got %q", field, v)
	}
	return t, nil
}

// store resolves the space (creating it when auto-create is on), takes the rate limit and
// stores the memory. The write is not tied to the call's context: once accepted it is
// carried to the end even if the client goes away.
func (s *Server) store(ctx context.Context, req *mcp.CallToolRequest, space string, m engine.Memory, opts engine.RememberOptions) (*mcp.CallToolResult, rememberResult, error) {
	sp, err := s.writeSpace(s.callerOf(req.Extra), space)
	if fw, ok := frontend.AsForward(err); ok {
		return s.remoteStore(ctx, req, fw, m, opts)
	}
	if err != nil {
		return nil, rememberResult{}, toolError(err)
	}
	if err := s.opts.Limits.AllowRemember(sp, 1); err != nil {
		return nil, rememberResult{}, toolError(err)
	}
	res, err := sp.Remember(context.WithoutCancel(ctx), m, opts)
	if err != nil {
		return nil, rememberResult{}, toolError(err)
	}
	out := rememberResult{
		MemoryID: res.Memory.ID, MemorySpaceID: sp.ID(), MemoryType: res.Memory.Type.String(),
		Confidence: res.Memory.Confidence, ObservedAt: stamp(res.Memory.ObservedAt), StoredAt: stamp(res.Memory.StoredAt),
		Durability: durability(sp.Settings().WALSync), AutoLinks: []linkInfo{},
	}
	for _, l := range res.Links {
		out.AutoLinks = append(out.AutoLinks, linkInfo{TargetMemoryID: l.TargetID, Similarity: finite(l.Similarity), Reason: l.Reason})
	}
	return textResult(storedText(&out, opts.AutoLink)), out, nil
}

func storedText(r *rememberResult, autoLink bool) string {
	text := fmt.Sprintf("Stored memory %s in space '%s' (%s).", r.MemoryID, r.MemorySpaceID, r.Durability)
	if autoLink {
		text += fmt.Sprintf(" %d association edges built.", len(r.AutoLinks))
	}
	return text
}

// durability says honestly how durable an acknowledged write is under a sync mode.
func durability(walSync string) string {
	switch walSync {
	case "interval":
		return "logged; flushed to disk within the sync interval"
	case "never":
		return "logged without flushing to disk (wal_sync = never)"
	}
	return "durable: on disk"
}
