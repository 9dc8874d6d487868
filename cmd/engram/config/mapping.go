package config

import (
	"fmt"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/embed"
	"github.com/engram-go/engram/frontend"
)

// EngineConfig maps the configuration onto the engine's. The caller adds Logger (and Now
// in tests).
func (c Config) EngineConfig() engine.Config {
	spaces := make(map[string]engine.SpaceSettings, len(c.Spaces.PerSpace))
	for id, o := range c.Spaces.PerSpace {
		spaces[id] = o.Settings()
	}
	return engine.Config{
		DataRoot: c.Persistence.DataRoot,
		Defaults: engine.SpaceSettings{
			HotCapacity:     c.Persistence.HotCapacity,
			WarmCapacity:    c.Persistence.WarmCapacity,
			ColdCapacity:    c.Persistence.ColdCapacity,
			Dimension:       c.Embedding.Dimension,
			WALSync:         c.Persistence.WALSync,
			WALSegmentBytes: c.Persistence.WALSegmentBytes,
		},
		Spaces:            spaces,
		AutoCreate:        c.Spaces.AutoCreate,
		MaxSpaces:         c.Spaces.MaxSpaces,
		MaxOpenSpaces:     c.Spaces.MaxOpenSpaces,
		EmbeddingProvider: c.Embedding.Provider,
		Embedding:         c.Embedding.provider(),
		SpaceEmbedding:    c.spaceProviders(),
		Consolidation: engine.ConsolidationConfig{
			Enabled:  c.Consolidation.Enabled,
			Interval: c.Consolidation.Interval.Std(),
			MinAge:   c.Consolidation.MinAge.Std(),
		},
		BackgroundMaxShare: c.Limits.BackgroundMaxShare,
		MaxBackgroundLag:   c.Limits.MaxBackgroundLag.Std(),
		MaxIndexLagBytes:   c.Limits.MaxIndexLagBytes,
	}
}

// SpaceEmbedding is the provider configuration of space id: its [spaces.<id>.embedding]
// keys over [embedding].
func (c Config) SpaceEmbedding(id string) Embedding {
	e := c.Embedding
	o := c.Spaces.PerSpace[id].Embedding
	if o == nil {
		return e
	}
	if o.Provider != "" && o.Provider != e.Provider {
		// Another provider: nothing of the global one's endpoint or model applies.
		e = Embedding{Dimension: e.Dimension, Provider: o.Provider}
	}
	for _, f := range []struct {
		dst *string
		src string
	}{{&e.URL, o.URL}, {&e.Model, o.Model}, {&e.APIKeyEnv, o.APIKeyEnv}} {
		if f.src != "" {
			*f.dst = f.src
		}
	}
	for _, f := range []struct {
		dst *int
		src int
	}{{&e.Dimensions, o.Dimensions}, {&e.BatchSize, o.BatchSize}, {&e.Concurrency, o.Concurrency}} {
		if f.src != 0 {
			*f.dst = f.src
		}
	}
	if o.Timeout != 0 {
		e.Timeout = o.Timeout
	}
	return e
}

func (e Embedding) provider() embed.Config {
	return embed.Config{Provider: e.Provider, URL: e.URL, Model: e.Model, Dimensions: e.Dimensions,
		BatchSize: e.BatchSize, Timeout: e.Timeout.Std(), Concurrency: e.Concurrency}
}

func (c Config) spaceProviders() map[string]embed.Config {
	out := map[string]embed.Config{}
	for id, o := range c.Spaces.PerSpace {
		if o.Embedding != nil {
			out[id] = c.SpaceEmbedding(id).provider()
		}
	}
	return out
}

// ResolveEmbeddingKeys puts into ec the API keys the provider configurations name by
// environment variable. A variable that is named but empty is an error: the operator said
// the provider needs a key.
func (c Config) ResolveEmbeddingKeys(getenv func(string) string, ec *engine.Config) error {
	key := func(where, env string) (string, error) {
		if env == "" {
			return "", nil
		}
		if v := getenv(env); v != "" {
			return v, nil
		}
		return "", &Error{Key: where + ".api_key_env", Kind: ErrInvalidValue,
			Detail: fmt.Sprintf("%s.api_key_env names the environment variable %s, which is empty", where, env)}
	}
	var err error
	if ec.Embedding.APIKey, err = key("embedding", c.Embedding.APIKeyEnv); err != nil {
		return err
	}
	for id, sc := range ec.SpaceEmbedding {
		if sc.APIKey, err = key("spaces."+id+".embedding", c.SpaceEmbedding(id).APIKeyEnv); err != nil {
			return err
		}
		ec.SpaceEmbedding[id] = sc
	}
	return nil
}

// Settings maps one [spaces.<id>] table onto the engine's per-space settings; zero
// fields inherit, as in the file.
func (o SpaceOverride) Settings() engine.SpaceSettings {
	return engine.SpaceSettings{
		HotCapacity:     o.HotCapacity,
		WarmCapacity:    o.WarmCapacity,
		ColdCapacity:    o.ColdCapacity,
		Dimension:       o.Dimension,
		RateLimit:       o.RateLimit,
		WALSync:         o.WALSync,
		WALSegmentBytes: o.WALSegmentBytes,
		HTTPListen:      o.HTTPListen,
	}
}

// FrontendOptions maps the configuration onto the options every frontend shares. The
// caller adds Engine, Logger, Version, Shutdown, Auth, Limits and Started.
func (c Config) FrontendOptions() frontend.Options {
	var listeners map[string]string
	for id, o := range c.Spaces.PerSpace {
		if o.HTTPListen == "" {
			continue
		}
		if listeners == nil {
			listeners = map[string]string{}
		}
		listeners[id] = o.HTTPListen
	}
	return frontend.Options{
		HTTPListen:      c.Server.HTTPListen,
		GRPCListen:      c.Server.GRPCListen,
		MCPListen:       c.MCP.Listen,
		MCPPath:         c.MCP.Path,
		MaxBodyBytes:    c.Limits.MaxBodyBytes,
		MaxContentBytes: c.Limits.MaxContentBytes,
		MaxBatchItems:   c.Limits.MaxBatchItems,
		SpaceListeners:  listeners,
		HideAPIDocs:     !c.HTTP.Docs,
	}
}
