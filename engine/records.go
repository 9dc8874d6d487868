package engine

import (
	"fmt"

	"github.com/engram-go/engram/engine/record"
)

// encodeMemory appends the remember payload of m, with raw (the embedding as given) as vector.
func encodeMemory(b []byte, m *Memory, raw []float32) []byte {
	return record.AppendMemory(b, &record.Memory{
		ID: m.ID, Content: m.Content, Confidence: m.Confidence,
		ObservedAt: m.ObservedAt, StoredAt: m.StoredAt, LastAccess: m.LastAccess,
		AccessCount: m.AccessCount, Tags: m.Tags, Type: uint8(m.Type), Embedding: raw,
		Episode: (*record.Episode)(m.Episode), Citations: m.Citations,
	})
}

// decodeMemory reads a remember payload; the embedding returned is the raw vector as given.
func decodeMemory(p []byte) (Memory, []float32, error) { return decodeMemoryIn(p, nil) }

// decodeMemoryIn is decodeMemory with the strings taken from arena (nil: allocated one by
// one): a space that opens decodes a million memories' strings into a few thousand blocks.
func decodeMemoryIn(p []byte, arena *record.Arena) (Memory, []float32, error) {
	r, err := record.DecodeMemoryIn(p, arena)
	m := Memory{
		ID: r.ID, Content: r.Content, Confidence: r.Confidence,
		ObservedAt: r.ObservedAt, StoredAt: r.StoredAt, LastAccess: r.LastAccess,
		AccessCount: r.AccessCount, Tags: r.Tags, Type: MemoryType(r.Type),
		Episode: (*Episode)(r.Episode), Citations: r.Citations,
	}
	if err == nil && (m.Type < Episodic || m.Type > Procedural) {
		err = fmt.Errorf("engine: unknown memory type %d", m.Type)
	}
	return m, r.Embedding, err
}
