package mcpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-go/engram/client"
	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
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

// listSpaces lists the spaces the key may use; in a cluster every space of the cluster,
// those served elsewhere as their owners' HTTP API lists them (docs/cluster.md).
func (s *Server) listSpaces(ctx context.Context, req *mcp.CallToolRequest, _ listSpacesArgs) (*mcp.CallToolResult, listSpacesResult, error) {
	c := s.callerOf(req.Extra)
	l, err := frontend.ListSpaces(ctx, &s.opts, "", func(id string) bool { return c.may(id) == nil })
	if err != nil {
		return nil, listSpacesResult{}, toolError(err)
	}
	out := listSpacesResult{Spaces: []spaceInfo{}}
	for _, sp := range l.Local {
		out.Spaces = append(out.Spaces, spaceInfo{ID: sp.ID(), Memories: sp.Stats().Memories, CreatedAt: stamp(sp.CreatedAt())})
	}
	if len(l.Remote) > 0 {
		authz := authorizationOf(req)
		hc := &http.Client{Transport: s.forwards}
		remote, err := frontend.Gather(ctx, l, func(ctx context.Context, o frontend.Owner) ([]client.SpaceEntry, error) {
			return frontend.OwnerSpaces(ctx, hc, o, s.opts.NodeID, authz, &s.opts.Forwards.HTTP)
		}, func(e client.SpaceEntry) string { return e.ID })
		if err != nil {
			return nil, listSpacesResult{}, toolError(err)
		}
		for _, e := range remote {
			out.Spaces = append(out.Spaces, spaceInfo{ID: e.ID, Memories: e.Memories, CreatedAt: stamp(e.CreatedAt)})
		}
		slices.SortFunc(out.Spaces, func(a, b spaceInfo) int { return strings.Compare(a.ID, b.ID) })
	}
	var b strings.Builder
	for _, sp := range out.Spaces {
		fmt.Fprintf(&b, "- %s: %d memories\n", sp.ID, sp.Memories)
	}
	return textResult(fmt.Sprintf("%d memory spaces:\n%s", len(out.Spaces), b.String())), out, nil
}

func (s *Server) createSpace(ctx context.Context, req *mcp.CallToolRequest, a createSpaceArgs) (*mcp.CallToolResult, createSpaceResult, error) {
	id, err := engine.NormalizeSpaceID(a.ID)
	if err != nil {
		return nil, createSpaceResult{}, toolError(fmt.Errorf("%w (from the id argument)", err))
	}
	if err := s.callerOf(req.Extra).may(id); err != nil {
		return nil, createSpaceResult{}, toolError(err)
	}
	set := engine.SpaceSettings{
		Dimension: a.Dimension, HotCapacity: a.HotCapacity, WarmCapacity: a.WarmCapacity, ColdCapacity: a.ColdCapacity,
		RateLimit: a.RateLimit, WALSync: a.WALSync, WALSegmentBytes: a.WALSegmentBytes,
	}
	if err := s.local(id); err != nil {
		if fw, ok := frontend.AsForward(err); ok {
			return s.remoteCreateSpace(ctx, req, fw, set)
		}
		return nil, createSpaceResult{}, toolError(err)
	}
	sp, created, err := s.eng.CreateSpace(id, set)
	if err != nil {
		return nil, createSpaceResult{}, toolError(err)
	}
	out := createSpaceResult{ID: sp.ID(), Created: created, Settings: sp.Settings()}
	return textResult(createdText(&out)), out, nil
}

func createdText(r *createSpaceResult) string {
	if !r.Created {
		return fmt.Sprintf("Memory space '%s' already exists; its settings are unchanged.", r.ID)
	}
	return fmt.Sprintf("Created memory space '%s'.", r.ID)
}
