package mcpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/frontendtest"
	"github.com/engram-go/engram/frontend/httpapi"
	"github.com/engram-go/engram/internal/enginetest"
)

// serveOn starts f on a loopback port and returns its address.
func serveOn(t *testing.T, f interface{ ServeOn(net.Listener) error }) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.ServeOn(ln); err != nil {
		t.Fatal(err)
	}
	return ln.Addr().String()
}

// withHeader sends a header with every request of an MCP session.
type withHeader struct{ name, value string }

func (h withHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.name, h.value)
	return http.DefaultTransport.RoundTrip(r)
}

// session is an MCP client of the endpoint at url, with the bearer key when not "".
type session struct {
	t  *testing.T
	cs *mcp.ClientSession
}

func connect(t *testing.T, url, key string) session {
	t.Helper()
	tr := &mcp.StreamableClientTransport{Endpoint: url}
	if key != "" {
		tr.HTTPClient = &http.Client{Transport: withHeader{"Authorization", "Bearer " + key}}
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test"}, nil).Connect(context.Background(), tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return session{t, cs}
}

// call runs a tool; with out set it must succeed and its structured content is decoded
// into out. It returns the result's text.
func (s session) call(name string, args map[string]any, out any) (string, bool) {
	s.t.Helper()
	res, err := s.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		s.t.Fatalf("%s: %v", name, err)
	}
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	if out != nil {
		if res.IsError {
			s.t.Fatalf("%s(%v): %s", name, args, text.String())
		}
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatal(err)
		}
	}
	return text.String(), res.IsError
}

// TestForwardToolCallsToOwner: node A's MCP endpoint carries out tool calls for a space
// node B serves through B's HTTP API: B stores, recalls, reads, forgets and creates;
// nothing lands at A, and another space does not see the data.
func TestForwardToolCallsToOwner(t *testing.T) {
	keys := frontendtest.Keys{
		"k-all":    {Name: "all", Spaces: []string{"*"}},
		"k-remote": {Name: "remote", Spaces: []string{"remote"}},
	}
	engB := enginetest.Open(t, enginetest.Config(t, 16))
	b, err := httpapi.New(frontend.Options{Engine: engB, Logger: enginetest.QuietLogger(), Auth: keys, NodeID: "b",
		Router: frontendtest.Router{}})
	if err != nil {
		t.Fatal(err)
	}
	lnB, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ServeOn(lnB, ""); err != nil {
		t.Fatal(err)
	}
	frontendtest.StopAtCleanup(t, b, engB)
	ownerB := frontend.Owner{NodeID: "b", HTTP: lnB.Addr().String()}

	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead.Close()
	engA := enginetest.Open(t, enginetest.Config(t, 16))
	a, err := New(frontend.Options{Engine: engA, Logger: enginetest.QuietLogger(), Auth: keys, NodeID: "a",
		Directory: frontendtest.Directory{"remote", "created-at-b"},
		Router: frontendtest.Router{
			Owners: map[string]frontend.Owner{"remote": ownerB, "created-at-b": ownerB, "gone": {NodeID: "c", HTTP: dead.Addr().String()}},
			Errs:   map[string]error{"moving": errors.New("partition 0 has no owner")},
		}})
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + serveOn(t, a) + DefaultPath
	frontendtest.StopAtCleanup(t, a, engA)
	agent := connect(t, url, "k-all")

	var stored rememberResult
	agent.call(ToolRemember, map[string]any{"content": "the owner keeps this", "memory_space": "remote", "tags": []string{"x"}}, &stored)
	if stored.MemorySpaceID != "remote" || stored.MemoryID == "" || !strings.Contains(stored.Durability, "stored by node b") {
		t.Fatalf("remember through A: %+v", stored)
	}
	var episode rememberResult
	agent.call(ToolRememberEpisode, map[string]any{"what": "an episode at the owner", "when": "2026-05-01T12:00:00Z",
		"where": "lab", "memory_space": "remote"}, &episode)
	if sp, err := engB.Space("remote"); err != nil || sp.Stats().Memories != 2 {
		t.Fatalf("owner B's space remote: %v, %v; want 2 memories", sp, err)
	}
	if _, err := engA.Space("remote"); err == nil {
		t.Fatal("node A created the forwarded space")
	}

	var got getResult
	agent.call(ToolGetMemory, map[string]any{"id": episode.MemoryID, "memory_space": "remote"}, &got)
	if got.Memory.Content != "an episode at the owner" || got.Memory.Episode == nil || got.Memory.Episode.Where != "lab" {
		t.Fatalf("get through A: %+v", got)
	}
	var rec recallResult
	agent.call(ToolRecall, map[string]any{"query": "the owner keeps this", "memory_space": "remote", "mode": "similarity"}, &rec)
	if len(rec.Memories) == 0 || rec.Memories[0].ID != stored.MemoryID || rec.Memories[0].Score != nil || rec.MemoriesSearched == 0 {
		t.Fatalf("recall through A: %+v", rec)
	}
	// Isolation: another space does not see B's memories.
	var other recallResult
	agent.call(ToolRecall, map[string]any{"query": "the owner keeps this", "memory_space": "other"}, &other)
	if len(other.Memories) != 0 {
		t.Fatalf("recall of another space: %+v", other)
	}
	if text, isErr := agent.call(ToolGetMemory, map[string]any{"id": stored.MemoryID, "memory_space": "other"}, nil); !isErr ||
		!strings.Contains(text, frontend.CodeMemoryNotFound) {
		t.Fatalf("get from another space: %q", text)
	}
	// The owner's refusal is the tool error, with its public code.
	if text, isErr := agent.call(ToolGetMemory, map[string]any{"id": "no-such-memory", "memory_space": "remote"}, nil); !isErr ||
		!strings.Contains(text, frontend.CodeMemoryNotFound) {
		t.Fatalf("get of an unknown id at the owner: %q", text)
	}
	var forgot forgetResult
	agent.call(ToolForget, map[string]any{"id": stored.MemoryID, "memory_space": "remote"}, &forgot)
	if sp, _ := engB.Space("remote"); !forgot.Forgotten || sp.Stats().Memories != 1 {
		t.Fatalf("forget through A: %+v, %d memories left", forgot, sp.Stats().Memories)
	}
	var created createSpaceResult
	agent.call(ToolCreateSpace, map[string]any{"id": "created-at-b", "hot_capacity": 64}, &created)
	if sp, err := engB.Space("created-at-b"); !created.Created || err != nil || sp.Settings().HotCapacity != 64 || created.Settings.HotCapacity != 64 {
		t.Fatalf("create through A: %+v, %v", created, err)
	}
	if _, err := engA.Space("created-at-b"); err == nil {
		t.Fatal("node A created the space another node serves")
	}

	// Every space of the cluster, as far as the key reaches.
	for _, tc := range []struct {
		key  string
		want []string
	}{
		{"k-all", []string{"created-at-b", "default", "remote"}}, // A serves its own default space
		{"k-remote", []string{"remote"}},
	} {
		var list listSpacesResult
		connect(t, url, tc.key).call(ToolListSpaces, nil, &list)
		var ids []string
		for _, sp := range list.Spaces {
			ids = append(ids, sp.ID)
			if sp.ID == "remote" && sp.Memories != 1 {
				t.Errorf("listed remote with %d memories, want 1", sp.Memories)
			}
		}
		if !slices.Equal(ids, tc.want) {
			t.Fatalf("key %s listed %v, want %v", tc.key, ids, tc.want)
		}
	}

	// A key's scope holds at the node asked and at the owner.
	if text, isErr := connect(t, url, "k-remote").call(ToolRecall, map[string]any{"query": "x", "memory_space": "created-at-b"}, nil); !isErr ||
		!strings.Contains(text, frontend.CodeForbidden) {
		t.Fatalf("recall outside the key's spaces: %q", text)
	}
	// No owner, or an owner gone: NOT_OWNER, to be retried.
	for _, space := range []string{"moving", "gone"} {
		text, isErr := agent.call(ToolRemember, map[string]any{"content": "nowhere", "memory_space": space}, nil)
		if !isErr || !strings.Contains(text, frontend.CodeNotOwner) || !strings.Contains(text, "Retry after") {
			t.Fatalf("remember in %s: %q", space, text)
		}
		if _, err := engA.Space(space); err == nil {
			t.Fatalf("space %s was created at A", space)
		}
	}
	if n := a.opts.Forwards.HTTP.Failed.Load(); n != 1 {
		t.Fatalf("failed forwards %d, want 1 (the owner gone)", n)
	}
}
