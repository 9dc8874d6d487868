package mcpapi

import (
	"context"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

// recallArgs are the arguments of the recall tool.
type recallArgs struct {
	Query        string   `json:"query" jsonschema:"what to remember: a question, a topic or a few key words"`
	MaxResults   int      `json:"max_results,omitempty" jsonschema:"at most this many memories (1-1000, default 10)"`
	Threshold    *float64 `json:"threshold,omitempty" jsonschema:"minimum score of a returned memory, 0 to 1 (default 0.3); lower it to get weaker associations"`
	Mode         string   `json:"mode,omitempty" jsonschema:"hybrid (direct matches plus spreading activation over associations; the default), similarity (direct matches only) or spreading (follow associations further)"`
	RequiredTags []string `json:"required_tags,omitempty" jsonschema:"only memories carrying every one of these tags"`
	ExcludedTags []string `json:"excluded_tags,omitempty" jsonschema:"no memory carrying any of these tags"`
	From         string   `json:"from,omitempty" jsonschema:"only memories observed at or after this RFC 3339 time"`
	To           string   `json:"to,omitempty" jsonschema:"only memories observed at or before this RFC 3339 time"`
	Trace        bool     `json:"trace,omitempty" jsonschema:"also return how spreading activation reached each memory"`
	MemorySpace  string   `json:"memory_space,omitempty" jsonschema:"memory space to recall from, when the connection does not pin one"`
}

// recallResult is the structured answer of recall.
type recallResult struct {
	MemorySpaceID    string           `json:"memory_space_id"`
	Memories         []recalledMemory `json:"memories"`
	RecallConfidence float32          `json:"recall_confidence"`
	MemoriesSearched int              `json:"memories_searched"`
	Traces           []traceInfo      `json:"traces,omitempty"`
}

type recalledMemory struct {
	ID         string   `json:"id"`
	Content    string   `json:"content"`
	Kind       string   `json:"kind" jsonschema:"vivid (strong direct match), associated (weaker or reached through associations) or reconstructed (a consolidated memory)"`
	Score      *float32 `json:"score,omitempty" jsonschema:"the memory's recall score; absent when another node of a cluster answered the recall (docs/mcp.md)"`
	Similarity float32  `json:"similarity"`
	Activation float32  `json:"activation"`
	Confidence float32  `json:"confidence"`
	MemoryType string   `json:"memory_type"`
	Tags       []string `json:"tags"`
	ObservedAt string   `json:"observed_at"`
	Path       []string `json:"retrieval_path" jsonschema:"memory ids from the direct match that led here to this memory"`
}

type traceInfo struct {
	MemoryID   string   `json:"memory_id"`
	Activation float32  `json:"activation"`
	Path       []string `json:"path"`
}

func (s *Server) recall(ctx context.Context, req *mcp.CallToolRequest, a recallArgs) (*mcp.CallToolResult, recallResult, error) {
	cue, err := cueOf(a)
	if err != nil {
		return nil, recallResult{}, toolError(err)
	}
	sp, id, err := s.readSpace(s.callerOf(req.Extra), a.MemorySpace)
	if fw, ok := frontend.AsForward(err); ok {
		return s.remoteRecall(ctx, req, fw, a, cue)
	}
	if err != nil {
		return nil, recallResult{}, toolError(err)
	}
	out := recallResult{MemorySpaceID: id, Memories: []recalledMemory{}}
	if sp == nil {
		return textResult(fmt.Sprintf("Space '%s' holds no memories yet.", id)), out, nil
	}
	res, err := sp.Recall(ctx, cue)
	if err != nil {
		return nil, recallResult{}, toolError(err)
	}
	for _, g := range []struct {
		kind string
		hits []engine.Hit
	}{{"vivid", res.Vivid}, {"associated", res.Associated}, {"reconstructed", res.Reconstructed}} {
		for i := range g.hits {
			out.Memories = append(out.Memories, recalled(g.kind, &g.hits[i]))
		}
	}
	out.RecallConfidence = finite(res.Confidence)
	out.MemoriesSearched = res.Searched
	if cue.Trace {
		out.Traces = []traceInfo{}
		for _, t := range res.Traces {
			out.Traces = append(out.Traces, traceInfo{MemoryID: t.MemoryID, Activation: finite(t.Activation), Path: nonNil(t.Path)})
		}
	}
	return textResult(recallText(&out)), out, nil
}

func cueOf(a recallArgs) (engine.Cue, error) {
	cue := engine.Cue{Query: a.Query, MaxResults: a.MaxResults, Threshold: engine.DefaultRecallThreshold,
		Trace: a.Trace, RequiredTags: a.RequiredTags, ExcludedTags: a.ExcludedTags}
	if strings.TrimSpace(a.Query) == "" {
		return cue, invalid("query must not be empty")
	}
	if a.MaxResults < 0 || a.MaxResults > engine.MaxMaxResults {
		return cue, invalid("max_results must be from 1 to %d, got %d", engine.MaxMaxResults, a.MaxResults)
	}
	if a.Threshold != nil {
		cue.Threshold = float32(*a.Threshold)
	}
	var err error
	if cue.Mode, err = frontend.ParseRecallMode(a.Mode); err != nil {
		return cue, err
	}
	if a.From != "" {
		if cue.From, err = parseTime("from", a.From); err != nil {
			return cue, err
		}
	}
	if a.To != "" {
		if cue.To, err = parseTime("to", a.To); err != nil {
			return cue, err
		}
	}
	if !cue.From.IsZero() && !cue.To.IsZero() && cue.To.Before(cue.From) {
		return cue, invalid("to is before from")
	}
	return cue, nil
}

func recalled(kind string, h *engine.Hit) recalledMemory {
	m := &h.Memory
	return recalledMemory{
		ID: m.ID, Content: m.Content, Kind: kind, Score: ptr(finite(h.Score)), Similarity: finite(h.Similarity),
		Activation: finite(h.Activation), Confidence: finite(m.Confidence), MemoryType: m.Type.String(),
		Tags: nonNil(m.Tags), ObservedAt: stamp(m.ObservedAt), Path: nonNil(h.Path),
	}
}

// recallText lists the memories for a reader, best first within each kind.
func recallText(r *recallResult) string {
	if len(r.Memories) == 0 {
		return fmt.Sprintf("No memory in space '%s' matched (searched %d).", r.MemorySpaceID, r.MemoriesSearched)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Recalled %d memories from space '%s':\n", len(r.Memories), r.MemorySpaceID)
	for i, m := range r.Memories {
		if m.Score != nil {
			fmt.Fprintf(&b, "%d. [%s, score %.2f] %s (id %s)\n", i+1, m.Kind, *m.Score, m.Content, m.ID)
		} else {
			fmt.Fprintf(&b, "%d. [%s, similarity %.2f] %s (id %s)\n", i+1, m.Kind, m.Similarity, m.Content, m.ID)
		}
	}
	return b.String()
}
