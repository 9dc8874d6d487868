package engine

import (
	"testing"
	"time"
)

// BenchmarkCodecMemory measures the remember payload of a memory shaped like an HTTP
// remember (768-d client embedding, a few tags): encoded into a reused buffer, as the
// remember path does with its pooled payloads, and decoded, as replay does.
func BenchmarkCodecMemory(b *testing.B) {
	raw := make([]float32, 768)
	for i := range raw {
		raw[i] = float32(i%97) / 97
	}
	m := Memory{ID: "0192d3f8-7a1b-7c3d-9e4f-0123456789ab", Content: "the quarterly report was sent to the board on friday",
		Confidence: 0.7, Type: Episodic, Tags: []string{"work", "report"},
		ObservedAt: time.Unix(1700000000, 0).UTC(), StoredAt: time.Unix(1700000001, 0).UTC()}
	b.Run("encode", func(b *testing.B) {
		buf := make([]byte, 0, 4096)
		b.ReportAllocs()
		for b.Loop() {
			buf = encodeMemory(buf[:0], &m, raw)
		}
	})
	b.Run("decode", func(b *testing.B) {
		p := encodeMemory(nil, &m, raw)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := decodeMemory(p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
