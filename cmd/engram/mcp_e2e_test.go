package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/internal/enginetest"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

var mcpURLInLog = regexp.MustCompile(`MCP endpoint listening" url=(\S+)`)

// mcpURL reads the bound MCP endpoint from the server's log.
func (s *server) mcpURL() string {
	s.t.Helper()
	return s.fromLog(mcpURLInLog, "MCP endpoint")
}

// mcpTransport opens an MCP session to a server with a key and a connection space.
type mcpTransport struct {
	name    string
	connect func(t *testing.T, env []string, url, key, space string) (*mcp.ClientSession, error)
}

// mcpTransports are the two ways an agent reaches the server: the streamable HTTP
// endpoint directly, and `engram mcp` over stdio.
var mcpTransports = []mcpTransport{
	{"http", func(t *testing.T, _ []string, url, key, space string) (*mcp.ClientSession, error) {
		h := http.Header{}
		if key != "" {
			h.Set("Authorization", "Bearer "+key)
		}
		if space != "" {
			h.Set("X-Memory-Space", space)
		}
		hc := &http.Client{Transport: headerTransport{headers: h, base: mcpHTTP.Transport}}
		return mcpConnect(t, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: hc})
	}},
	{"stdio", func(t *testing.T, env []string, url, key, space string) (*mcp.ClientSession, error) {
		args := []string{"mcp", "--url", url}
		if key != "" {
			args = append(args, "--api-key", key)
		}
		if space != "" {
			args = append(args, "--space", space)
		}
		cmd := exec.Command(engramBin, args...)
		cmd.Env = env
		cmd.Stderr = os.Stderr
		return mcpConnect(t, &mcp.CommandTransport{Command: cmd})
	}},
}

func mcpConnect(t *testing.T, tr mcp.Transport) (*mcp.ClientSession, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "test"}, nil).Connect(ctx, tr, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

// agent is a test's MCP session.
type agent struct {
	t  *testing.T
	cs *mcp.ClientSession
}

func (a agent) call(name string, args map[string]any) *mcp.CallToolResult {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		a.t.Fatalf("%s(%v): protocol error %v", name, args, err)
	}
	return res
}

func resultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// ok calls a tool that must succeed, decodes its structured content into out and returns
// its text.
func (a agent) ok(name string, args map[string]any, out any) string {
	a.t.Helper()
	res := a.call(name, args)
	text := resultText(res)
	if res.IsError {
		a.t.Fatalf("%s(%v): tool error %s", name, args, text)
	}
	if text == "" {
		a.t.Fatalf("%s: no readable text", name)
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil || res.StructuredContent == nil {
		a.t.Fatalf("%s: no structured content (%v)", name, err)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s: structured content %s: %v", name, b, err)
		}
	}
	return text
}

// fails calls a tool that must answer a tool error whose text holds every want.
func (a agent) fails(name string, args map[string]any, want ...string) {
	a.t.Helper()
	res := a.call(name, args)
	text := resultText(res)
	if !res.IsError {
		a.t.Fatalf("%s(%v): no tool error, got %s", name, args, text)
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			a.t.Fatalf("%s(%v): error %q does not say %q", name, args, text, w)
		}
	}
}

type mcpRecalled struct {
	MemorySpaceID string `json:"memory_space_id"`
	Memories      []struct {
		ID, Content, Kind string
		Tags              []string
	} `json:"memories"`
	Traces []struct {
		MemoryID string   `json:"memory_id"`
		Path     []string `json:"path"`
	} `json:"traces"`
}

func (r mcpRecalled) ids() []string {
	var out []string
	for _, m := range r.Memories {
		out = append(out, m.ID)
	}
	return out
}

func (a agent) recallIDs(args map[string]any) []string {
	a.t.Helper()
	var r mcpRecalled
	a.ok("recall", args, &r)
	return r.ids()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestE2EMCPTools drives every tool over both transports against the real binary: what
// they store is recalled, filtered, traced, read back and forgotten; bad arguments are tool
// errors that leave the session working; spaces stay isolated; the connection's space
// comes before the tool argument.
func TestE2EMCPTools(t *testing.T) {
	needBinary(t)
	env := e2eEnv(t)
	data := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, env, data)
	url := srv.mcpURL()
	for _, tr := range mcpTransports {
		t.Run(tr.name, func(t *testing.T) {
			cs, err := tr.connect(t, env, url, "", "")
			if err != nil {
				t.Fatal(err)
			}
			ag := agent{t, cs}
			notes, other := "notes-"+tr.name, "other-"+tr.name

			tools, err := cs.ListTools(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, tool := range tools.Tools {
				names[tool.Name] = true
				if len(tool.Description) < 40 || tool.InputSchema == nil || tool.OutputSchema == nil {
					t.Errorf("tool %s: description %q, input schema %v, output schema %v", tool.Name, tool.Description, tool.InputSchema, tool.OutputSchema)
				}
			}
			for _, n := range []string{"remember", "remember_episode", "recall", "get_memory", "forget", "list_spaces", "create_space"} {
				if !names[n] {
					t.Errorf("tool %s missing; got %v", n, names)
				}
			}

			var created struct {
				ID      string
				Created bool
			}
			ag.ok("create_space", map[string]any{"id": notes}, &created)
			if !created.Created || created.ID != notes {
				t.Fatalf("create_space: %+v", created)
			}
			ag.ok("create_space", map[string]any{"id": notes}, &created)
			if created.Created {
				t.Fatal("create_space of an existing space says created")
			}

			var stored struct {
				MemoryID      string `json:"memory_id"`
				MemorySpaceID string `json:"memory_space_id"`
				Durability    string
			}
			text := ag.ok("remember", map[string]any{"content": "The mitochondria is the powerhouse of the cell",
				"tags": []string{"biology"}, "memory_type": "semantic", "confidence": 0.9, "memory_space": notes}, &stored)
			if stored.MemoryID == "" || stored.MemorySpaceID != notes || !strings.Contains(text, stored.MemoryID) ||
				!strings.HasPrefix(stored.Durability, "durable") {
				t.Fatalf("remember: %+v %q", stored, text)
			}
			bio := stored.MemoryID
			ag.ok("remember", map[string]any{"content": "Paris is the capital of France", "id": "geo-1",
				"tags": []string{"geography"}, "timestamp": "2020-01-01T00:00:00Z", "memory_space": notes}, &stored)
			var ep struct {
				MemoryID   string `json:"memory_id"`
				MemoryType string `json:"memory_type"`
			}
			ag.ok("remember_episode", map[string]any{"what": "Met Ada at the lab to talk about cell energy",
				"when": "2026-03-01T10:00:00Z", "where": "lab", "who": []string{"Ada"}, "importance": 0.8, "memory_space": notes}, &ep)
			if ep.MemoryType != "episodic" {
				t.Fatalf("remember_episode: %+v", ep)
			}

			// Recall with its options: mode, threshold, tag filters, time window, trace.
			var r mcpRecalled
			text = ag.ok("recall", map[string]any{"query": "mitochondria powerhouse cell", "memory_space": notes, "trace": true}, &r)
			if r.MemorySpaceID != notes || !contains(r.ids(), bio) || !strings.Contains(text, "powerhouse") || r.Traces == nil {
				t.Fatalf("recall: %+v\n%s", r, text)
			}
			if ids := ag.recallIDs(map[string]any{"query": "mitochondria powerhouse cell capital France", "memory_space": notes,
				"mode": "similarity", "required_tags": []string{"geography"}}); len(ids) != 1 || ids[0] != "geo-1" {
				t.Fatalf("required_tags geography: %v", ids)
			}
			if ids := ag.recallIDs(map[string]any{"query": "mitochondria powerhouse cell capital France", "memory_space": notes,
				"excluded_tags": []string{"geography"}}); contains(ids, "geo-1") || !contains(ids, bio) {
				t.Fatalf("excluded_tags geography: %v", ids)
			}
			if ids := ag.recallIDs(map[string]any{"query": "capital France", "memory_space": notes,
				"from": "2021-01-01T00:00:00Z"}); contains(ids, "geo-1") {
				t.Fatalf("from 2021 still finds a 2020 memory: %v", ids)
			}
			if ids := ag.recallIDs(map[string]any{"query": "capital France", "memory_space": notes, "threshold": 1}); len(ids) != 0 {
				t.Fatalf("threshold 1: %v", ids)
			}

			var got struct {
				MemorySpaceID string `json:"memory_space_id"`
				Memory        struct {
					ID, Content string
					Tags        []string
					Confidence  float64
				}
			}
			ag.ok("get_memory", map[string]any{"id": bio, "memory_space": notes}, &got)
			if got.Memory.Content != "The mitochondria is the powerhouse of the cell" || got.Memory.Confidence < 0.89 {
				t.Fatalf("get_memory: %+v", got)
			}

			// Isolation: another space sees none of it.
			if ids := ag.recallIDs(map[string]any{"query": "mitochondria powerhouse cell", "memory_space": other}); len(ids) != 0 {
				t.Fatalf("space %s sees %v", other, ids)
			}
			ag.fails("get_memory", map[string]any{"id": bio, "memory_space": other}, "MEMORY_NOT_FOUND")

			var spaces struct{ Spaces []struct{ ID string } }
			ag.ok("list_spaces", nil, &spaces)
			var ids []string
			for _, s := range spaces.Spaces {
				ids = append(ids, s.ID)
			}
			if !contains(ids, notes) || !contains(ids, "default") {
				t.Fatalf("list_spaces: %v", ids)
			}

			// Bad arguments are tool errors naming the problem; the session goes on.
			for _, c := range []struct {
				tool string
				args map[string]any
				want string
			}{
				{"remember", map[string]any{}, "content"},
				{"remember", map[string]any{"content": "   "}, "content must not be empty"},
				{"remember", map[string]any{"content": "x", "confidence": 2}, "confidence"},
				{"remember", map[string]any{"content": "x", "memory_type": "dream"}, "memory_type"},
				{"remember", map[string]any{"content": "x", "timestamp": "yesterday"}, "timestamp"},
				{"remember", map[string]any{"content": "x", "id": "bad id!"}, "id"},
				{"remember", map[string]any{"content": 42}, "content"},
				{"remember", map[string]any{"content": "x", "memory_space": "Bad Space"}, "memory_space argument"},
				{"remember", map[string]any{"content": strings.Repeat("a", 200<<10)}, "limit"},
				{"remember", map[string]any{"content": "x", "colour": "red"}, "colour"},
				{"remember_episode", map[string]any{"what": "x"}, "when"},
				{"remember_episode", map[string]any{"what": "x", "when": "soon"}, "when"},
				{"recall", map[string]any{"query": ""}, "query"},
				{"recall", map[string]any{"query": "x", "mode": "telepathy"}, "mode"},
				{"recall", map[string]any{"query": "x", "threshold": -1}, "threshold"},
				{"recall", map[string]any{"query": "x", "max_results": 5000}, "max_results"},
				{"recall", map[string]any{"query": "x", "from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "before"},
				{"get_memory", map[string]any{"id": ""}, "id"},
				{"forget", map[string]any{"id": "no-such-memory", "memory_space": notes}, "MEMORY_NOT_FOUND"},
				{"create_space", map[string]any{"id": "x"}, "id argument"},
				{"create_space", map[string]any{"id": "fine-id", "wal_sync": "sometimes"}, "wal_sync"},
			} {
				ag.fails(c.tool, c.args, c.want)
			}
			if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "no_such_tool"}); err == nil {
				t.Fatal("an unknown tool answered")
			}

			ag.ok("forget", map[string]any{"id": bio, "memory_space": notes}, nil)
			ag.fails("get_memory", map[string]any{"id": bio, "memory_space": notes}, "MEMORY_NOT_FOUND")
			if ids := ag.recallIDs(map[string]any{"query": "mitochondria powerhouse cell", "memory_space": notes}); contains(ids, bio) {
				t.Fatalf("a forgotten memory is recalled: %v", ids)
			}

			// The connection's space comes first; the argument cannot move a pinned
			// connection elsewhere.
			pcs, err := tr.connect(t, env, url, "", other)
			if err != nil {
				t.Fatal(err)
			}
			pinned := agent{t, pcs}
			pinned.ok("remember", map[string]any{"content": "pinned connection memory", "memory_space": notes}, &stored)
			if stored.MemorySpaceID != other {
				t.Fatalf("a connection pinned to %s stored in %s", other, stored.MemorySpaceID)
			}
			if ids := ag.recallIDs(map[string]any{"query": "pinned connection memory", "memory_space": notes}); len(ids) != 0 {
				t.Fatalf("space %s sees the pinned connection's memory: %v", notes, ids)
			}
		})
	}
	// Nothing above took the server down.
	if resp, err := http.Get("http://" + srv.http + "/health/alive"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	mustEngram(t, env, "stop", "--data-root", data)
	if code := srv.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, srv.stderr)
	}
}

// TestE2EMCPKeyScoping: with auth = "api_key", MCP checks keys exactly as HTTP does over
// both transports: no key or a wrong key gets no session, and a key of space alpha cannot
// reach beta by the connection's space, the tool argument, create_space or list_spaces.
func TestE2EMCPKeyScoping(t *testing.T) {
	needBinary(t)
	env := e2eEnv(t)
	data, cfg, common := authSetup(t)
	alpha, _ := keyCreate(t, env, append(common, "--space", "alpha", "--name", "alpha-agent")...)
	admin, _ := keyCreate(t, env, append(common, "--space", "*", "--admin", "--name", "ops")...)
	srv := startServer(t, env, data, "--config", cfg)
	url := srv.mcpURL()

	resp, err := mcpHTTP.Post(url, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no key: HTTP %d, want 401", resp.StatusCode)
	}

	for _, tr := range mcpTransports {
		t.Run(tr.name, func(t *testing.T) {
			for _, key := range []string{"", "engram_wrongwrongwrongwrongwrongwrong"} {
				if _, err := tr.connect(t, env, url, key, ""); err == nil {
					t.Fatalf("key %q got a session", key)
				}
			}
			acs, err := tr.connect(t, env, url, alpha, "")
			if err != nil {
				t.Fatal(err)
			}
			a := agent{t, acs}
			ops, err := tr.connect(t, env, url, admin, "")
			if err != nil {
				t.Fatal(err)
			}
			o := agent{t, ops}
			secret := "beta secret of " + tr.name
			o.ok("remember", map[string]any{"content": secret, "memory_space": "beta"}, nil)
			a.ok("remember", map[string]any{"content": "alpha note of " + tr.name, "memory_space": "alpha"}, nil)

			a.fails("remember", map[string]any{"content": "x", "memory_space": "beta"}, "FORBIDDEN")
			a.fails("remember", map[string]any{"content": "x"}, "FORBIDDEN") // the default space is not alpha's
			a.fails("recall", map[string]any{"query": secret, "memory_space": "beta"}, "FORBIDDEN")
			a.fails("remember_episode", map[string]any{"what": "x", "when": "2026-01-01T00:00:00Z", "memory_space": "beta"}, "FORBIDDEN")
			a.fails("get_memory", map[string]any{"id": "any", "memory_space": "beta"}, "FORBIDDEN")
			a.fails("forget", map[string]any{"id": "any", "memory_space": "beta"}, "FORBIDDEN")
			a.fails("create_space", map[string]any{"id": "gamma"}, "FORBIDDEN")
			if ids := a.recallIDs(map[string]any{"query": secret, "memory_space": "alpha"}); len(ids) != 0 {
				t.Fatalf("alpha recalls beta's memory: %v", ids)
			}
			var spaces struct{ Spaces []struct{ ID string } }
			a.ok("list_spaces", nil, &spaces)
			if len(spaces.Spaces) != 1 || spaces.Spaces[0].ID != "alpha" {
				t.Fatalf("alpha's key lists %+v", spaces.Spaces)
			}

			// A connection pinned to beta by a key of alpha reaches nothing.
			pcs, err := tr.connect(t, env, url, alpha, "beta")
			if err != nil {
				t.Fatal(err)
			}
			pinned := agent{t, pcs}
			pinned.fails("recall", map[string]any{"query": secret}, "FORBIDDEN")
			pinned.fails("remember", map[string]any{"content": "x", "memory_space": "alpha"}, "FORBIDDEN")

			var r mcpRecalled
			o.ok("recall", map[string]any{"query": secret, "memory_space": "beta"}, &r)
			if len(r.Memories) == 0 || r.Memories[0].Content != secret {
				t.Fatalf("the admin key does not recall beta's memory: %+v", r)
			}
		})
	}
}

// TestE2EMCPRelaySurvivesRestart: `engram mcp` keeps serving its host across a server
// restart. A call while the server is down is a tool error saying so; the first call after
// the restart reopens the session by itself, and memories stored before are there.
func TestE2EMCPRelaySurvivesRestart(t *testing.T) {
	needBinary(t)
	env := e2eEnv(t)
	data := filepath.Join(t.TempDir(), "data")
	mcpAddr := enginetest.FreeAddr(t)
	srv := startServer(t, env, data, "--mcp", mcpAddr)
	url := srv.mcpURL()
	var stdio mcpTransport
	for _, tr := range mcpTransports {
		if tr.name == "stdio" {
			stdio = tr
		}
	}
	cs, err := stdio.connect(t, env, url, "", "notes")
	if err != nil {
		t.Fatal(err)
	}
	ag := agent{t, cs}
	ag.ok("remember", map[string]any{"content": "remembered before the restart"}, nil)

	mustEngram(t, env, "stop", "--data-root", data)
	srv.wait(30 * time.Second)
	ag.fails("recall", map[string]any{"query": "restart"}, "did not answer")

	srv = startServer(t, env, data, "--mcp", mcpAddr)
	var r mcpRecalled
	ag.ok("recall", map[string]any{"query": "remembered before the restart"}, &r)
	if r.MemorySpaceID != "notes" || len(r.Memories) == 0 {
		t.Fatalf("after the restart: %+v", r)
	}

	// Restarted between two calls: the server no longer knows the session, and the relay
	// opens a new one for the same call.
	mustEngram(t, env, "stop", "--data-root", data)
	srv.wait(30 * time.Second)
	startServer(t, env, data, "--mcp", mcpAddr)
	ag.ok("recall", map[string]any{"query": "remembered before the restart"}, &r)
	if len(r.Memories) == 0 {
		t.Fatalf("after the second restart: %+v", r)
	}
}
