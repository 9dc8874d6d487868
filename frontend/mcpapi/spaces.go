package mcpapi

import (
	"context"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-go/engram/engine"
)

// listSpacesArgs takes nothing: the answer is every space the caller's key reaches.
type listSpacesArgs struct{}

type spaceInfo struct {
	ID        string `json:"id"`
	Memories  int    `json:"memories"`
	CreatedAt string `json:"created_at"`
}

type listSpacesResult struct {
	Spaces []spaceInfo `json:"spaces"`
}

// createSpaceArgs are the id and the optional settings of a new space.
type createSpaceArgs struct {
	ID              string  `json:"id" jsonschema:"the new space's id: 3-64 characters of a-z 0-9 _ -, starting with a letter or digit"`
	Dimension       int     `json:"dimension,omitempty" jsonschema:"embedding dimension of the space (default: the server's)"`
	HotCapacity     int     `json:"hot_capacity,omitempty" jsonschema:"memories kept in the hot tier (default: the server's)"`
	WarmCapacity    int     `json:"warm_capacity,omitempty" jsonschema:"memories kept in the warm tier"`
	ColdCapacity    int     `json:"cold_capacity,omitempty" jsonschema:"memories kept in the cold tier"`
	RateLimit       float64 `json:"rate_limit,omitempty" jsonschema:"remembers per second the space accepts (0 = unlimited)"`
	WALSync         string  `json:"wal_sync,omitempty" jsonschema:"always (default: every acknowledged write is on disk), interval or never"`
	WALSegmentBytes int64   `json:"wal_segment_bytes,omitempty" jsonschema:"size of a write-ahead log segment"`
}

type createSpaceResult struct {
	ID       string               `json:"id"`
	Created  bool                 `json:"created" jsonschema:"false when the space already existed (its settings are unchanged)"`
	Settings engine.SpaceSettings `json:"settings"`
}

func (s *Server) listSpaces(_ context.Context, req *mcp.CallToolRequest, _ listSpacesArgs) (*mcp.CallToolResult, listSpacesResult, error) {
	c := s.callerOf(req.Extra)
	out := listSpacesResult{Spaces: []spaceInfo{}}
	var b strings.Builder
	for _, sp := range s.eng.Spaces() {
		if c.may(sp.ID()) != nil {
			continue
		}
		st := sp.Stats()
		out.Spaces = append(out.Spaces, spaceInfo{ID: sp.ID(), Memories: st.Memories, CreatedAt: stamp(sp.CreatedAt())})
		fmt.Fprintf(&b, "- %s: %d memories\n", sp.ID(), st.Memories)
	}
	return textResult(fmt.Sprintf("%d memory spaces:\n%s", len(out.Spaces), b.String())), out, nil
}

func (s *Server) createSpace(_ context.Context, req *mcp.CallToolRequest, a createSpaceArgs) (*mcp.CallToolResult, createSpaceResult, error) {
	id, err := engine.NormalizeSpaceID(a.ID)
	if err != nil {
		return nil, createSpaceResult{}, toolError(fmt.Errorf("%w (from the id argument)", err))
	}
	if err := s.callerOf(req.Extra).may(id); err != nil {
		return nil, createSpaceResult{}, toolError(err)
	}
	sp, created, err := s.eng.CreateSpace(id, engine.SpaceSettings{
		Dimension: a.Dimension, HotCapacity: a.HotCapacity, WarmCapacity: a.WarmCapacity, ColdCapacity: a.ColdCapacity,
		RateLimit: a.RateLimit, WALSync: a.WALSync, WALSegmentBytes: a.WALSegmentBytes,
	})
	if err != nil {
		return nil, createSpaceResult{}, toolError(err)
	}
	out := createSpaceResult{ID: sp.ID(), Created: created, Settings: sp.Settings()}
	text := fmt.Sprintf("Created memory space '%s'.", sp.ID())
	if !created {
		text = fmt.Sprintf("Memory space '%s' already exists; its settings are unchanged.", sp.ID())
	}
	return textResult(text), out, nil
}
