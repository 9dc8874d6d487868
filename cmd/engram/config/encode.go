package config

import (
	"fmt"
	"io"

	"github.com/BurntSushi/toml"
)

// WriteTOML writes the configuration in the file's own layout, so that the output of
// `engram config show` loads back to the same configuration.
func (c Config) WriteTOML(w io.Writer) error {
	spaces := map[string]any{
		"auto_create":     c.Spaces.AutoCreate,
		"max_spaces":      c.Spaces.MaxSpaces,
		"max_open_spaces": c.Spaces.MaxOpenSpaces,
	}
	for id, o := range c.Spaces.PerSpace {
		spaces[id] = o
	}
	layout := struct {
		Server        Server         `toml:"server"`
		HTTP          HTTP           `toml:"http"`
		MCP           MCP            `toml:"mcp"`
		Persistence   Persistence    `toml:"persistence"`
		Spaces        map[string]any `toml:"spaces"`
		Embedding     Embedding      `toml:"embedding"`
		Consolidation Consolidation  `toml:"consolidation"`
		Security      Security       `toml:"security"`
		Limits        Limits         `toml:"limits"`
		Log           Log            `toml:"log"`
		Cluster       Cluster        `toml:"cluster"`
	}{c.Server, c.HTTP, c.MCP, c.Persistence, spaces, c.Embedding, c.Consolidation, c.Security, c.Limits, c.Log, c.Cluster}
	if err := toml.NewEncoder(w).Encode(layout); err != nil {
		return fmt.Errorf("config: encode: %w", err)
	}
	return nil
}
