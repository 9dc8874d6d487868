package engine

import (
	"testing"
	"time"
)

func TestMemoryRecordRoundTrip(t *testing.T) {
	tests := []Memory{
		{ID: "plain", Content: "c", Confidence: 0.7, Type: Episodic, ObservedAt: time.Unix(1, 2).UTC(), StoredAt: time.Unix(3, 4).UTC()},
		{ID: "full", Content: "ünïcode", Confidence: 1, Type: Semantic, Tags: []string{"x", "y"}, AccessCount: 9,
			ObservedAt: time.Unix(1, 0).UTC(), StoredAt: time.Unix(2, 0).UTC(), LastAccess: time.Unix(3, 0).UTC(),
			Episode:   &Episode{Where: "w", Who: []string{"a", "b"}, Why: "y", How: "h", EmotionalValence: -0.5, Importance: 0.25},
			Citations: []string{"e1", "e2"}},
	}
	for _, m := range tests {
		t.Run(m.ID, func(t *testing.T) {
			raw := []float32{0.5, -1}
			got, gotRaw, err := decodeMemory(encodeMemory(nil, &m, raw))
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != m.ID || got.Content != m.Content || got.Confidence != m.Confidence || got.Type != m.Type ||
				!got.ObservedAt.Equal(m.ObservedAt) || !got.StoredAt.Equal(m.StoredAt) || !got.LastAccess.Equal(m.LastAccess) ||
				got.AccessCount != m.AccessCount || len(got.Tags) != len(m.Tags) || len(got.Citations) != len(m.Citations) ||
				(m.Episode != nil && (got.Episode == nil || got.Episode.Importance != m.Episode.Importance || len(got.Episode.Who) != 2)) ||
				len(gotRaw) != 2 || gotRaw[1] != -1 || got.Embedding != nil {
				t.Fatalf("round trip changed the memory:\n got %+v\nwant %+v", got, m)
			}
		})
	}
}

// TestMemoryRecordType: a remember payload whose memory type the engine does not know is
// an error, not a memory of an unnamed type.
func TestMemoryRecordType(t *testing.T) {
	for _, typ := range []MemoryType{0, Procedural + 1} {
		m := Memory{ID: "m", Content: "c", Type: typ}
		if _, _, err := decodeMemory(encodeMemory(nil, &m, nil)); err == nil {
			t.Errorf("memory type %d decoded without error", typ)
		}
	}
}
