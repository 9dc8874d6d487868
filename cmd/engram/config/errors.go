package config

import (
	"errors"
	"fmt"
)

// Sentinel errors. Load wraps them in *Error, which adds the file, line and key.
var (
	ErrFileNotFound = errors.New("config: file not found")
	ErrSyntax       = errors.New("config: syntax error")
	ErrUnknownKey   = errors.New("config: unknown key")
	ErrInvalidValue = errors.New("config: invalid value")
)

// Error locates a configuration problem. Kind is one of the sentinel errors above.
type Error struct {
	File   string // "" when the value came from a flag or the environment
	Line   int    // 0 when not known
	Key    string // dotted key ("persistence.wal_sync"), when known
	Kind   error
	Detail string
}

func (e *Error) Error() string {
	loc := e.File
	if loc == "" {
		loc = "configuration"
	}
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, e.Line)
	}
	return fmt.Sprintf("config: %s: %s", loc, e.Detail)
}

// Unwrap lets errors.Is match the sentinel.
func (e *Error) Unwrap() error { return e.Kind }
