package record

import (
	"testing"
	"time"
)

// FuzzDecodeRecords feeds arbitrary payloads to every record decoder: they must return an
// error or a value, never panic or allocate without bound, and a remember payload that
// decodes must encode back to one that decodes the same. Decoding into an arena gives what
// decoding alone does.
func FuzzDecodeRecords(f *testing.F) {
	m := Memory{ID: "m1", Content: "hello", Confidence: 0.5, Type: 1, Tags: []string{"a"},
		ObservedAt: time.Unix(100, 0), Episode: &Episode{Who: []string{"x"}}, Citations: []string{"e1"},
		Embedding: []float32{1, 2, 3}}
	f.Add(AppendMemory(nil, &m))
	f.Add(AppendForget(nil, "m1"))
	f.Add(AppendLinks(nil, "m1", 42, []Link{{Target: "m2", Weight: 0.5, Kind: 1}}))
	f.Add(AppendAccess(nil, []Access{{ID: "m1", Count: 3, Last: time.Unix(5, 0)}}))
	f.Add(AppendPromote(nil, "m1", 42))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	var arena Arena // shared across inputs, as a space's load shares one across memories
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := DecodeMemory(p)
		in, errIn := DecodeMemoryIn(p, &arena)
		// Compared by their encodings, which hold NaN confidences bit for bit.
		if (err == nil) != (errIn == nil) || err == nil && string(AppendMemory(nil, &m)) != string(AppendMemory(nil, &in)) {
			t.Fatalf("decoded in an arena: %+v, %v; alone: %+v, %v", in, errIn, m, err)
		}
		if err == nil {
			again, err := DecodeMemory(AppendMemory(nil, &m))
			if err != nil || again.ID != m.ID || again.Content != m.Content || again.Type != m.Type || len(again.Embedding) != len(m.Embedding) {
				t.Fatalf("remember round trip: %v", err)
			}
		}
		_, _ = DecodeForget(p)
		_, _, _, _ = DecodeLinks(p)
		_, _ = DecodeAccess(p)
		_, _, _ = DecodePromote(p)
	})
}
