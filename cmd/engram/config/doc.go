// Package config reads the engram server's TOML configuration and merges it with the
// environment and command-line flags.
//
// Invariants:
//
//   - Precedence is flag > environment > file > built-in default, applied in one place
//     (Load), so every command sees the same effective configuration.
//   - A configuration either loads completely and valid, or Load returns an *Error naming
//     the file, the line and the key. Unknown keys are errors, so a misspelt key never
//     silently falls back to its default. The only exception is a documented list of whole
//     sections of the Rust Engram configuration (RustSections) which are reported in
//     Config.Notices and otherwise ignored, so a migrated file still starts.
//   - Every path in a loaded Config is absolute and tilde-expanded.
//   - The mapping to engine.Config and frontend.Options lives in mapping.go and nowhere
//     else.
package config
