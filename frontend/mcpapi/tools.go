package mcpapi

import (
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-go/engram/engine"
)

// Tool names, as agents call them.
const (
	ToolRemember        = "remember"
	ToolRememberEpisode = "remember_episode"
	ToolRecall          = "recall"
	ToolGetMemory       = "get_memory"
	ToolForget          = "forget"
	ToolListSpaces      = "list_spaces"
	ToolCreateSpace     = "create_space"
)

func ptr[T any](v T) *T { return &v }

// addTools registers every tool with its input schema. The schemas come from the argument
// types, tightened with the enumerations and ranges the SDK then checks before a handler
// runs, so an out-of-range argument is a tool error naming it.
func (s *Server) addTools() error {
	ranges := func(sc *jsonschema.Schema, min, max float64, names ...string) {
		for _, n := range names {
			sc.Properties[n].Minimum, sc.Properties[n].Maximum = ptr(min), ptr(max)
		}
	}
	enum := func(sc *jsonschema.Schema, name string, vals ...any) { sc.Properties[name].Enum = vals }

	remember, err := schema[rememberArgs](func(sc *jsonschema.Schema) {
		ranges(sc, 0, 1, "confidence", "link_threshold")
		enum(sc, "memory_type", "episodic", "semantic", "procedural")
	})
	if err != nil {
		return err
	}
	episode, err := schema[episodeArgs](func(sc *jsonschema.Schema) {
		ranges(sc, 0, 1, "importance")
		ranges(sc, -1, 1, "emotional_valence")
	})
	if err != nil {
		return err
	}
	recall, err := schema[recallArgs](func(sc *jsonschema.Schema) {
		ranges(sc, 0, 1, "threshold")
		ranges(sc, 1, engine.MaxMaxResults, "max_results")
		enum(sc, "mode", "hybrid", "similarity", "spreading")
	})
	if err != nil {
		return err
	}
	idSchema, err := schema[idArgs](nil)
	if err != nil {
		return err
	}
	create, err := schema[createSpaceArgs](func(sc *jsonschema.Schema) {
		enum(sc, "wal_sync", "always", "interval", "never")
	})
	if err != nil {
		return err
	}

	write := &mcp.ToolAnnotations{DestructiveHint: ptr(false)}
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:  ToolRemember,
		Title: "Remember",
		Description: "Store a memory durably: a fact, decision, preference or observation worth keeping across " +
			"conversations. Returns the memory id. Related memories are linked automatically so that recall can " +
			"follow associations.",
		InputSchema: remember, Annotations: write,
	}, s.remember)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:  ToolRememberEpisode,
		Title: "Remember an episode",
		Description: "Store an event as an episodic memory: what happened and when (both required), with where, " +
			"who, why, how, importance and emotional valence when known. Old, similar episodes are later " +
			"consolidated into general knowledge.",
		InputSchema: episode, Annotations: write,
	}, s.rememberEpisode)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:  ToolRecall,
		Title: "Recall",
		Description: "Bring back the memories relevant to a query, by meaning and words, plus memories associated " +
			"with them. Each memory comes with its kind (vivid, associated, reconstructed) and score. Filter by " +
			"tags or observation time; set trace to see how associations led to a memory.",
		InputSchema: recall, Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
	}, s.recall)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        ToolGetMemory,
		Title:       "Get a memory",
		Description: "Read one memory by id, with all its fields (tags, type, confidence, times, episode details).",
		InputSchema: idSchema, Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
	}, s.get)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        ToolForget,
		Title:       "Forget a memory",
		Description: "Delete one memory by id, permanently. Use it when a memory is wrong or the user asks to forget it.",
		InputSchema: idSchema, Annotations: &mcp.ToolAnnotations{DestructiveHint: ptr(true), IdempotentHint: false},
	}, s.forget)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        ToolListSpaces,
		Title:       "List memory spaces",
		Description: "List the memory spaces this connection may use, with how many memories each holds.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
	}, s.listSpaces)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:  ToolCreateSpace,
		Title: "Create a memory space",
		Description: "Create an isolated memory space (memories in one space are never seen from another). " +
			"Creating a space that exists changes nothing and says so.",
		InputSchema: create, Annotations: &mcp.ToolAnnotations{DestructiveHint: ptr(false), IdempotentHint: true},
	}, s.createSpace)
	return nil
}

// schema infers T's JSON schema and lets patch tighten it.
func schema[T any](patch func(*jsonschema.Schema)) (*jsonschema.Schema, error) {
	sc, err := jsonschema.For[T](nil)
	if err != nil {
		return nil, fmt.Errorf("mcpapi: schema of %T: %w", *new(T), err)
	}
	if patch != nil {
		patch(sc)
	}
	return sc, nil
}
