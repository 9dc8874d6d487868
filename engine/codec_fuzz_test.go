package engine

import (
	"testing"
	"time"
)

// FuzzDecodeRecords feeds arbitrary payloads to every record decoder: they must return an
// error or a value, never panic or allocate without bound.
func FuzzDecodeRecords(f *testing.F) {
	m := Memory{ID: "m1", Content: "hello", Confidence: 0.5, Type: Episodic, Tags: []string{"a"},
		ObservedAt: time.Unix(100, 0), Episode: &Episode{Who: []string{"x"}}, Citations: []string{"e1"}}
	f.Add(encodeMemory(nil, &m, []float32{1, 2, 3}))
	f.Add(encodeForget(nil, "m1"))
	f.Add(encodeLinks(nil, "m1", 42, []link{{Target: "m2", Weight: 0.5, Kind: 1}}))
	f.Add(encodeAccess(nil, []access{{ID: "m1", Count: 3, Last: time.Unix(5, 0)}}))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, p []byte) {
		if m, raw, err := decodeMemory(p); err == nil {
			again, raw2, err := decodeMemory(encodeMemory(nil, &m, raw))
			if err != nil || again.ID != m.ID || again.Content != m.Content || len(raw2) != len(raw) {
				t.Fatalf("remember round trip: %v", err)
			}
		}
		_, _ = decodeForget(p)
		_, _, _, _ = decodeLinks(p)
		_, _ = decodeAccess(p)
	})
}

func TestCodecRoundTrip(t *testing.T) {
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
				len(gotRaw) != 2 || gotRaw[1] != -1 {
				t.Fatalf("round trip changed the memory:\n got %+v\nwant %+v", got, m)
			}
		})
	}
}
