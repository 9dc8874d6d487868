package jetstream_test

import (
	"testing"

	"github.com/engram-go/engram/benchmarks/jetstream"
	"github.com/engram-go/engram/engine/record"
)

// TestRememberPayload checks that the spike's records are real remember payloads: they
// decode with the engine's codec, carry an embedding of the asked dimension, and differ
// only where the seed says.
func TestRememberPayload(t *testing.T) {
	for _, tc := range []struct {
		dim      int
		minBytes int // the embedding alone is 4 bytes a component
	}{
		{dim: 768, minBytes: 4 * 768},
		{dim: 384, minBytes: 4 * 384},
	} {
		p := jetstream.RememberPayload(tc.dim, 1)
		if len(p) < tc.minBytes {
			t.Errorf("dim %d: payload is %d bytes, want at least %d", tc.dim, len(p), tc.minBytes)
		}
		m, err := record.DecodeMemory(p)
		if err != nil {
			t.Fatalf("dim %d: decode: %v", tc.dim, err)
		}
		if len(m.Embedding) != tc.dim || m.Content == "" {
			t.Errorf("dim %d: decoded %d components, content %q", tc.dim, len(m.Embedding), m.Content)
		}
		if again := jetstream.RememberPayload(tc.dim, 1); string(again) != string(p) {
			t.Errorf("dim %d: same seed, different payload", tc.dim)
		}
		if other := jetstream.RememberPayload(tc.dim, 2); string(other) == string(p) {
			t.Errorf("dim %d: different seeds, same payload", tc.dim)
		}
	}
}
