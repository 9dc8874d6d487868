package config

import (
	"github.com/engram-go/engram/engine"
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
		Consolidation: engine.ConsolidationConfig{
			Enabled:  c.Consolidation.Enabled,
			Interval: c.Consolidation.Interval.Std(),
			MinAge:   c.Consolidation.MinAge.Std(),
		},
	}
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
	}
}
