package main

import (
	"encoding/hex"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/record"
)

// jsonRecord is one intact record of `dump --json`.
type jsonRecord struct {
	LSN          uint64      `json:"lsn"`
	Time         string      `json:"time,omitempty"`
	TimeUnixNano *int64      `json:"time_unix_nano,omitempty"`
	Type         string      `json:"type"`
	Space        string      `json:"space"`
	MemoryID     string      `json:"memory_id,omitempty"`
	Preview      string      `json:"preview,omitempty"`
	Memory       *jsonMemory `json:"memory,omitempty"`
	Edges        *int        `json:"edges,omitempty"`
	Accesses     *int        `json:"accesses,omitempty"`
	DecodeError  string      `json:"decode_error,omitempty"`
	Segment      string      `json:"segment,omitempty"` // --raw
	Offset       *int64      `json:"offset,omitempty"`  // --raw
}

// jsonMemory is a remember record's payload (docs/formats/records.md).
type jsonMemory struct {
	ID          string       `json:"id"`
	Content     string       `json:"content"`
	MemoryType  string       `json:"memory_type"`
	Confidence  float32      `json:"confidence"`
	Tags        []string     `json:"tags,omitempty"`
	ObservedAt  string       `json:"observed_at,omitempty"`
	StoredAt    string       `json:"stored_at,omitempty"`
	LastAccess  string       `json:"last_access,omitempty"`
	AccessCount uint32       `json:"access_count"`
	Embedding   []float32    `json:"embedding,omitempty"`
	Episode     *jsonEpisode `json:"episode,omitempty"`
	Citations   []string     `json:"citations,omitempty"`
}

type jsonEpisode struct {
	Where            string   `json:"where,omitempty"`
	Who              []string `json:"who,omitempty"`
	Why              string   `json:"why,omitempty"`
	How              string   `json:"how,omitempty"`
	EmotionalValence float32  `json:"emotional_valence"`
	Importance       float32  `json:"importance"`
}

// jsonDamage is one damaged frame or header of `dump --raw --json`.
type jsonDamage struct {
	Space   string `json:"space"`
	Segment string `json:"segment"`
	Offset  int64  `json:"offset"`
	Damage  string `json:"damage"` // "torn" or "corrupt"
	Header  bool   `json:"header,omitempty"`
	LSN     uint64 `json:"lsn,omitempty"`  // when the frame header checked out
	Type    string `json:"type,omitempty"` // likewise
	Length  int    `json:"length"`
	Error   string `json:"error"`
	Hex     string `json:"hex"` // the first bytes
}

func recordJSON(l *walLog, e *entry, times timeFormat, raw bool, info engine.RecordInfo, decodeErr error) jsonRecord {
	r := jsonRecord{LSN: e.frame.LSN, Type: record.TypeName(e.frame.Type), Space: l.space,
		MemoryID: info.MemoryID, Preview: info.Preview}
	switch times {
	case timesUTC:
		r.Time = payloadTime(e.frame.Time)
	case timesUnix:
		ns := e.frame.Time.UnixNano()
		r.TimeUnixNano = &ns
	}
	switch {
	case decodeErr != nil:
		r.DecodeError = decodeErr.Error()
	case info.Memory != nil:
		r.Memory = memoryJSON(info.Memory)
	case info.Type == record.TypeLinks:
		r.Edges = &info.Links
	case info.Type == record.TypeAccess:
		r.Accesses = &info.Accesses
	}
	if raw {
		off := e.frame.Offset
		r.Segment, r.Offset = e.seg.name, &off
	}
	return r
}

func memoryJSON(m *engine.Memory) *jsonMemory {
	j := &jsonMemory{ID: m.ID, Content: m.Content, MemoryType: m.Type.String(), Confidence: m.Confidence,
		Tags: m.Tags, ObservedAt: payloadTime(m.ObservedAt), StoredAt: payloadTime(m.StoredAt),
		LastAccess: payloadTime(m.LastAccess), AccessCount: m.AccessCount, Embedding: m.Embedding, Citations: m.Citations}
	if ep := m.Episode; ep != nil {
		j.Episode = &jsonEpisode{Where: ep.Where, Who: ep.Who, Why: ep.Why, How: ep.How,
			EmotionalValence: ep.EmotionalValence, Importance: ep.Importance}
	}
	return j
}

func damageJSON(l *walLog, e *entry) jsonDamage {
	d := jsonDamage{Space: l.space, Segment: e.seg.name, Offset: e.frame.Offset, Damage: e.damage.String(),
		Header: e.header, Length: len(e.frame.Raw), Error: e.err.Error(), Hex: hex.EncodeToString(e.frame.Raw[:min(len(e.frame.Raw), hexBytes)])}
	if e.lsnKnown() {
		d.LSN, d.Type = e.frame.LSN, record.TypeName(e.frame.Type)
	}
	return d
}
