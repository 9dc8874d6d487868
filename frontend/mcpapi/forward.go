package mcpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-go/engram/client"
	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

// A tool call whose space another node serves is carried out by that node's HTTP API,
// with the Go client: nodes advertise their HTTP and gRPC addresses, not their MCP
// endpoint, and every tool has an HTTP route doing the same. The call goes once, with the
// hop marker and the caller's Authorization (the owner checks the key again); the owner's
// answer becomes the tool's result, its error the tool error (docs/cluster.md,
// "Forwarding").

// forwardTimeout bounds one call to an owner.
const forwardTimeout = 2 * time.Minute

// hopTransport adds the hop marker and the caller's Authorization to every request.
type hopTransport struct {
	base        http.RoundTripper
	node, authz string
}

func (t hopTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(frontend.ForwardedByHeader, t.node)
	if t.authz != "" {
		r.Header.Set("Authorization", t.authz)
	}
	return t.base.RoundTrip(r)
}

// owner is a client of the HTTP API of the node fw names, addressing fw's space, for the
// call req makes.
func (s *Server) owner(req *mcp.CallToolRequest, fw *frontend.Forward) (*client.Client, error) {
	hc := &http.Client{Transport: hopTransport{base: s.forwards, node: s.opts.NodeID, authz: authorizationOf(req)}}
	c, err := client.New("http://"+fw.Owner.HTTP, client.WithSpace(fw.Space), client.WithHTTPClient(hc),
		client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		return nil, fmt.Errorf("%w: node %q: %v", engine.ErrNotOwner, fw.Owner.NodeID, err)
	}
	return c, nil
}

// authorizationOf is the Authorization header of the call's HTTP request ("" when none).
func authorizationOf(req *mcp.CallToolRequest) string {
	if req == nil || req.Extra == nil || req.Extra.Header == nil {
		return ""
	}
	return req.Extra.Header.Get("Authorization")
}

// ownerError is the tool error of a call the owner refused (its public error, as it
// answered it) or could not be asked (NOT_OWNER: a retry finds the new owner).
func ownerError(fw *frontend.Forward, err error) error {
	var ce *client.Error
	if errors.As(err, &ce) && ce.Code != "" {
		return toolError(&frontend.Error{Status: ce.Status, Code: ce.Code, Message: ce.Message,
			Educational: ce.EducationalContext, Guidance: ce.CognitiveGuidance, RetryAfter: int(ce.RetryAfter / time.Second)})
	}
	return toolError(fmt.Errorf("%w: memory space %q is served by node %q at %s, which did not answer: %v",
		engine.ErrNotOwner, fw.Space, fw.Owner.NodeID, fw.Owner.HTTP, frontend.RedactCredentials(err.Error())))
}

// callOwner runs call with a client of the owner; a write is carried to the end even if
// the agent goes away, as here.
func callOwner[T any](ctx context.Context, s *Server, req *mcp.CallToolRequest, fw *frontend.Forward, call func(context.Context, *client.Client) (T, error)) (T, error) {
	var zero T
	c, err := s.owner(req, fw)
	if err != nil {
		return zero, toolError(err)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), forwardTimeout)
	defer cancel()
	out, err := call(ctx, c)
	var answered *client.Error
	if err == nil || errors.As(err, &answered) && answered.Code != "" {
		s.opts.Forwards.HTTP.OK.Add(1)
	} else {
		s.opts.Forwards.HTTP.Failed.Add(1)
	}
	if err != nil {
		return zero, ownerError(fw, err)
	}
	return out, nil
}

// remoteStore stores m at the owner of its space.
func (s *Server) remoteStore(ctx context.Context, req *mcp.CallToolRequest, fw *frontend.Forward, m engine.Memory, opts engine.RememberOptions) (*mcp.CallToolResult, rememberResult, error) {
	res, err := callOwner(ctx, s, req, fw, func(ctx context.Context, c *client.Client) (*client.RememberResponse, error) {
		if e := m.Episode; e != nil {
			imp, val := e.Importance, e.EmotionalValence
			return c.RememberEpisode(ctx, client.EpisodeRequest{What: m.Content, When: m.ObservedAt, WhereLocation: e.Where,
				Who: e.Who, Why: e.Why, How: e.How, Importance: &imp, EmotionalValence: &val, Tags: m.Tags, ID: m.ID})
		}
		r := client.RememberRequest{Content: m.Content, Confidence: &m.Confidence, ID: m.ID, Tags: m.Tags,
			MemoryType: m.Type.String(), AutoLink: opts.AutoLink, LinkThreshold: opts.LinkThreshold}
		if !m.ObservedAt.IsZero() {
			r.Timestamp = &m.ObservedAt
		}
		return c.Remember(ctx, r)
	})
	if err != nil {
		return nil, rememberResult{}, err
	}
	out := rememberResult{
		MemoryID: res.MemoryID, MemorySpaceID: res.MemorySpaceID, MemoryType: m.Type.String(),
		Confidence: res.StorageConfidence.Value, ObservedAt: stamp(res.ObservedAt), StoredAt: stamp(res.StoredAt),
		// The owner's own words on how durable the write is under its space's settings.
		Durability: fmt.Sprintf("stored by node %s: %s", fw.Owner.NodeID, res.SystemMessage), AutoLinks: []linkInfo{},
	}
	for _, l := range res.AutoLinks {
		out.AutoLinks = append(out.AutoLinks, linkInfo{TargetMemoryID: l.TargetMemoryID, Similarity: l.SimilarityScore, Reason: l.LinkReason})
	}
	return textResult(storedText(&out, opts.AutoLink)), out, nil
}

// remoteRecall recalls at the owner of the space. The HTTP answer carries no per-memory
// score: a forwarded recall's memories have none (docs/mcp.md).
func (s *Server) remoteRecall(ctx context.Context, req *mcp.CallToolRequest, fw *frontend.Forward, a recallArgs, cue engine.Cue) (*mcp.CallToolResult, recallResult, error) {
	res, err := callOwner(ctx, s, req, fw, func(ctx context.Context, c *client.Client) (*client.RecallResponse, error) {
		r := client.RecallRequest{Query: cue.Query, MaxResults: cue.MaxResults, Threshold: &cue.Threshold, Mode: strings.ToLower(strings.TrimSpace(a.Mode)),
			TraceActivation: cue.Trace, IncludeMetadata: true, RequiredTags: cue.RequiredTags, ExcludedTags: cue.ExcludedTags}
		if !cue.From.IsZero() {
			r.FromTime = &cue.From
		}
		if !cue.To.IsZero() {
			r.ToTime = &cue.To
		}
		return c.Recall(ctx, r)
	})
	if err != nil {
		return nil, recallResult{}, err
	}
	out := recallResult{MemorySpaceID: res.MemorySpaceID, Memories: []recalledMemory{}, RecallConfidence: res.RecallConfidence.Value}
	if res.Metadata != nil {
		out.MemoriesSearched = res.Metadata.TotalMemoriesSearched
	}
	for _, g := range []struct {
		kind string
		ms   []client.MemoryResult
	}{{"vivid", res.Memories.Vivid}, {"associated", res.Memories.Associated}, {"reconstructed", res.Memories.Reconstructed}} {
		for _, m := range g.ms {
			out.Memories = append(out.Memories, recalledMemory{
				ID: m.ID, Content: m.Content, Kind: g.kind, Similarity: m.SimilarityScore, Activation: m.ActivationLevel,
				Confidence: m.Confidence.Value, MemoryType: m.MemoryType, Tags: nonNil(m.Tags), ObservedAt: stamp(m.ObservedAt),
				Path: pathOf(m.ID, m.RetrievalPath),
			})
		}
	}
	if cue.Trace {
		out.Traces = []traceInfo{}
		for _, t := range res.Traces {
			out.Traces = append(out.Traces, traceInfo{MemoryID: t.MemoryID, Activation: t.ActivationLevel, Path: nonNil(t.ActivationPath)})
		}
	}
	return textResult(recallText(&out)), out, nil
}

// pathOf turns the HTTP API's retrieval path ("direct", or "spreading: a -> b") into the
// memory ids the tool lists: [id] for a direct match, as here.
func pathOf(id, path string) []string {
	hops, spread := strings.CutPrefix(path, "spreading: ")
	if !spread || hops == "" {
		return []string{id}
	}
	return strings.Split(hops, " -> ")
}

// remoteGet reads a memory at the owner of its space.
func (s *Server) remoteGet(ctx context.Context, req *mcp.CallToolRequest, fw *frontend.Forward, id string) (*mcp.CallToolResult, getResult, error) {
	m, err := callOwner(ctx, s, req, fw, func(ctx context.Context, c *client.Client) (*client.Memory, error) { return c.Get(ctx, id) })
	if err != nil {
		return nil, getResult{}, err
	}
	info := memoryInfo{
		ID: m.ID, Content: m.Content, MemoryType: m.MemoryType, Confidence: m.Confidence.Value, Tags: nonNil(m.Tags),
		ObservedAt: stamp(m.ObservedAt), StoredAt: stamp(m.StoredAt), AccessCount: m.AccessCount, Tier: m.Tier, Citations: m.Citations,
	}
	if m.LastAccess != nil {
		info.LastAccess = stamp(*m.LastAccess)
	}
	if e := m.Episode; e != nil {
		info.Episode = &episodeInfo{Where: e.WhereLocation, Who: e.Who, Why: e.Why, How: e.How,
			EmotionalValence: e.EmotionalValence, Importance: e.Importance}
	}
	out := getResult{MemorySpaceID: fw.Space, Memory: info}
	return textResult(getText(&out)), out, nil
}

// remoteForget forgets a memory at the owner of its space.
func (s *Server) remoteForget(ctx context.Context, req *mcp.CallToolRequest, fw *frontend.Forward, id string) (*mcp.CallToolResult, forgetResult, error) {
	res, err := callOwner(ctx, s, req, fw, func(ctx context.Context, c *client.Client) (*client.ForgetResponse, error) { return c.Forget(ctx, id) })
	if err != nil {
		return nil, forgetResult{}, err
	}
	out := forgetResult{MemorySpaceID: res.MemorySpaceID, MemoryID: res.MemoryID, Forgotten: res.Forgotten}
	return textResult(forgetText(&out)), out, nil
}

// remoteCreateSpace creates a space at the owner of its partition.
func (s *Server) remoteCreateSpace(ctx context.Context, req *mcp.CallToolRequest, fw *frontend.Forward, set engine.SpaceSettings) (*mcp.CallToolResult, createSpaceResult, error) {
	d, err := callOwner(ctx, s, req, fw, func(ctx context.Context, c *client.Client) (*client.SpaceDetails, error) {
		return c.CreateSpace(ctx, fw.Space, client.SpaceSettings(set))
	})
	if err != nil {
		return nil, createSpaceResult{}, err
	}
	out := createSpaceResult{ID: d.ID, Created: d.Created != nil && *d.Created, Settings: engine.SpaceSettings(d.Settings)}
	return textResult(createdText(&out)), out, nil
}
