// Package enginetest is the test support the packages above the engine share: an engine
// opened in a temporary folder and closed when the test ends, a logger that discards, the
// ids of a list of memories, and the TestMain of end-to-end tests that start the engram
// binary (binary.go). Only tests import it.
//
// The engine's own in-package tests cannot import it (it imports the engine): they keep
// the same helpers in engine/helpers_test.go. Neither can the packages below the engine
// (wal, tier, index, graph), whose tests log nothing or keep a one-line logger.
package enginetest

import (
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/engram-go/engram/engine"
)

// QuietLogger discards everything, unless ENGRAM_TEST_LOG is set: then it writes to stderr.
func QuietLogger() *slog.Logger {
	if os.Getenv("ENGRAM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Config is the configuration a test starts from: a fresh temporary data root, spaces
// created on first use with embedding dimension dim, the built-in embedder, QuietLogger.
func Config(tb testing.TB, dim int) engine.Config {
	return engine.Config{
		DataRoot:   tb.TempDir(),
		AutoCreate: true,
		Defaults:   engine.SpaceSettings{Dimension: dim},
		Logger:     QuietLogger(),
	}
}

// Open opens an engine with cfg and closes it when tb ends; a failure to open or to close
// fails tb. Closing it earlier is fine: Engine.Close is idempotent.
func Open(tb testing.TB, cfg engine.Config) *engine.Engine {
	tb.Helper()
	e, err := engine.Open(cfg)
	if err != nil {
		tb.Fatalf("open engine at %s: %v", cfg.DataRoot, err)
	}
	tb.Cleanup(func() {
		if err := e.Close(); err != nil {
			tb.Errorf("close engine: %v", err)
		}
	})
	return e
}

// IDs returns id(item) of each item, in order; never nil, so an empty list compares equal
// to []string{}.
func IDs[T any](items []T, id func(T) string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}
