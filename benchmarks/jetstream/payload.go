package jetstream

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/engram-go/engram/engine/record"
)

// RememberPayload returns the remember record payload (docs/formats/records.md) of a memory
// with a dim-dimensional unit embedding, a sentence of text and two tags: the bytes a
// remember request of that dimension puts in the log.
func RememberPayload(dim int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	v := make([]float32, dim)
	var norm float64
	for i := range v {
		v[i] = float32(r.NormFloat64())
		norm += float64(v[i]) * float64(v[i])
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(norm))
	}
	now := time.Date(2026, 12, 7, 3, 30, 0, 0, time.UTC)
	m := record.Memory{
		ID:         "0193a5f2-7c4e-7b21-9d3e-5f0a1b2c3d4e",
		Content:    "Met Dana at the Thursday planning review; she wants the ingestion latency report before the quarterly sync, and prefers figures as ratios against last month.",
		Confidence: 0.9,
		ObservedAt: now,
		StoredAt:   now,
		LastAccess: now,
		Tags:       []string{"work", "meeting"},
		Type:       1,
		Embedding:  v,
	}
	return record.AppendMemory(nil, &m)
}
