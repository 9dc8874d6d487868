package engine

// The engine's in-package tests share these helpers. They cannot use internal/enginetest,
// which imports the engine; the tests of every other package do.

import (
	"io"
	"log/slog"
	"os"
	"testing"
)

// quietLogger discards everything, unless ENGRAM_TEST_LOG is set: then it writes to stderr.
func quietLogger() *slog.Logger {
	if os.Getenv("ENGRAM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testConfig is the configuration a test starts from: data root root, spaces created on
// first use with embedding dimension 16, quietLogger.
func testConfig(t testing.TB, root string) Config {
	t.Helper()
	return Config{
		DataRoot:   root,
		AutoCreate: true,
		Defaults:   SpaceSettings{Dimension: 16},
		Logger:     quietLogger(),
	}
}

// openTest opens an engine with cfg; the test closes it.
func openTest(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := Open(cfg)
	if err != nil {
		t.Fatalf("open engine: %v", err)
	}
	return e
}

// mustSpace returns space id, created if it does not exist.
func mustSpace(t testing.TB, e *Engine, id string) *Space {
	t.Helper()
	s, err := e.SpaceForWrite(id)
	if err != nil {
		t.Fatalf("space %s: %v", id, err)
	}
	return s
}

// zeroPadded is a vector of dimension dim whose leading elements are xs.
func zeroPadded(dim int, xs ...float32) []float32 {
	v := make([]float32, dim)
	copy(v, xs)
	return v
}

// allHits returns every hit of r: vivid, associated, then reconstructed.
func allHits(r RecallResult) []Hit {
	var out []Hit
	out = append(out, r.Vivid...)
	out = append(out, r.Associated...)
	return append(out, r.Reconstructed...)
}

// ids returns the memory ids of hits, in order.
func ids(hits []Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Memory.ID)
	}
	return out
}
