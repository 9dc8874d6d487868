package record

import (
	"slices"
	"time"
)

// Memory flags in the remember payload.
const (
	flagEpisode = 1 << iota
	flagEmbedding
	flagCitations
)

// Memory is the payload of a remember record, and the metadata a tier segment keeps for each
// of its memories: everything stored about a memory except where it lives.
type Memory struct {
	ID          string
	Content     string
	Confidence  float32
	ObservedAt  time.Time
	StoredAt    time.Time
	LastAccess  time.Time
	AccessCount uint32
	Tags        []string
	// Type is the memory type's number (1 episodic, 2 semantic, 3 procedural); which numbers
	// exist is the engine's to check.
	Type uint8
	// Embedding is the vector exactly as the client gave it; nil when none was given (and in
	// segment metadata, whose vectors are stored apart).
	Embedding []float32
	Episode   *Episode
	// Citations lists the episode ids a consolidated (semantic) memory was built from.
	Citations []string
}

// Episode holds the who/where/why fields of an episodic memory remembered through the
// episodes route. A nil *Episode means the memory was stored as a plain memory.
type Episode struct {
	Where            string
	Who              []string
	Why              string
	How              string
	EmotionalValence float32
	Importance       float32
}

// AppendMemory appends the remember payload of m to b.
func AppendMemory(b []byte, m *Memory) []byte {
	// One allocation for the whole payload: the embedding is most of it.
	b = slices.Grow(b, 64+len(m.ID)+len(m.Content)+4*len(m.Embedding)+16*len(m.Tags))
	b = append(b, payloadVersion)
	var flags byte
	if m.Episode != nil {
		flags |= flagEpisode
	}
	if m.Embedding != nil {
		flags |= flagEmbedding
	}
	if len(m.Citations) > 0 {
		flags |= flagCitations
	}
	b = append(b, flags, m.Type)
	b = appendString(b, m.ID)
	b = appendString(b, m.Content)
	b = appendF32(b, m.Confidence)
	b = appendTime(b, m.ObservedAt)
	b = appendTime(b, m.StoredAt)
	b = appendTime(b, m.LastAccess)
	b = appendUvarint(b, uint64(m.AccessCount))
	b = appendStrings(b, m.Tags)
	if m.Embedding != nil {
		b = appendUvarint(b, uint64(len(m.Embedding)))
		b = appendF32s(b, m.Embedding)
	}
	if e := m.Episode; e != nil {
		b = appendString(b, e.Where)
		b = appendStrings(b, e.Who)
		b = appendString(b, e.Why)
		b = appendString(b, e.How)
		b = appendF32(b, e.EmotionalValence)
		b = appendF32(b, e.Importance)
	}
	if len(m.Citations) > 0 {
		b = appendStrings(b, m.Citations)
	}
	return b
}

// DecodeMemory reads a remember payload.
func DecodeMemory(p []byte) (Memory, error) { return DecodeMemoryIn(p, nil) }

// DecodeMemoryIn is DecodeMemory with the strings taken from arena (nil: allocated one
// by one).
func DecodeMemoryIn(p []byte, arena *Arena) (Memory, error) {
	d := decoder{b: p, arena: arena}
	d.version()
	flags := d.byte1("flags")
	var m Memory
	m.Type = d.byte1("type")
	m.ID = d.str("id")
	m.Content = d.str("content")
	m.Confidence = d.f32("confidence")
	m.ObservedAt = d.time("observed_at")
	m.StoredAt = d.time("stored_at")
	m.LastAccess = d.time("last_access")
	m.AccessCount = uint32(d.uvarint("access_count"))
	m.Tags = d.strs("tags")
	if flags&flagEmbedding != 0 {
		m.Embedding = d.f32s("embedding")
	}
	if flags&flagEpisode != 0 {
		e := &Episode{}
		e.Where = d.str("where")
		e.Who = d.strs("who")
		e.Why = d.str("why")
		e.How = d.str("how")
		e.EmotionalValence = d.f32("emotional_valence")
		e.Importance = d.f32("importance")
		m.Episode = e
	}
	if flags&flagCitations != 0 {
		m.Citations = d.strs("citations")
	}
	return m, d.err
}
