package transfer

import (
	"math"
	"strconv"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/internal/jsonwire"
	"github.com/valyala/fastjson"
)

// AppendLine appends m as one line of the transfer format, newline included. The tier is not
// written: it is where the source kept the memory, not part of the memory.
func AppendLine(dst []byte, m *engine.Memory) []byte {
	dst = append(dst, `{"id":`...)
	dst = jsonwire.AppendString(dst, m.ID)
	dst = append(dst, `,"content":`...)
	dst = jsonwire.AppendString(dst, m.Content)
	dst = append(dst, `,"embedding":`...)
	if m.Embedding == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, x := range m.Embedding {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonwire.AppendFloat32(dst, x)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"confidence":`...)
	dst = jsonwire.AppendFloat32(dst, m.Confidence)
	dst = append(dst, `,"observed_at":`...)
	dst = jsonwire.AppendTime(dst, m.ObservedAt)
	dst = append(dst, `,"stored_at":`...)
	dst = jsonwire.AppendTime(dst, m.StoredAt)
	dst = append(dst, `,"last_access":`...)
	dst = jsonwire.AppendTime(dst, m.LastAccess)
	dst = append(dst, `,"access_count":`...)
	dst = strconv.AppendUint(dst, uint64(m.AccessCount), 10)
	dst = append(dst, `,"tags":`...)
	dst = jsonwire.AppendStrings(dst, m.Tags)
	dst = append(dst, `,"memory_type":`...)
	dst = jsonwire.AppendString(dst, m.Type.String())
	dst = append(dst, `,"episode":`...)
	if e := m.Episode; e == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, `{"where_location":`...)
		dst = jsonwire.AppendString(dst, e.Where)
		dst = append(dst, `,"who":`...)
		dst = jsonwire.AppendStrings(dst, e.Who)
		dst = append(dst, `,"why":`...)
		dst = jsonwire.AppendString(dst, e.Why)
		dst = append(dst, `,"how":`...)
		dst = jsonwire.AppendString(dst, e.How)
		dst = append(dst, `,"emotional_valence":`...)
		dst = jsonwire.AppendFloat32(dst, e.EmotionalValence)
		dst = append(dst, `,"importance":`...)
		dst = jsonwire.AppendFloat32(dst, e.Importance)
		dst = append(dst, '}')
	}
	dst = append(dst, `,"citations":`...)
	dst = jsonwire.AppendStrings(dst, m.Citations)
	return append(dst, "}\n"...)
}

// memoryLineFields are the keys of a transfer line, for error messages.
const memoryLineFields = "id, content, embedding, confidence, observed_at, stored_at, last_access, access_count, tags, memory_type, episode, citations"

// ParseLine parses one line of the transfer format (without its newline) with p. id and content are
// required; a missing confidence is 0.7, missing times are stamped by the engine, a
// missing memory_type is episodic, and null counts as absent. Unknown keys are refused
// rather than dropped, so that nothing of a memory is lost without an error. The returned
// memory holds no reference into p.
func ParseLine(p *fastjson.Parser, line []byte) (engine.Memory, error) {
	var m engine.Memory
	v, vec, err := jsonwire.ParseMemory(p, line, nil, jsonwire.MaxParsedValues(len(line)))
	if err != nil {
		return m, jsonwire.Invalid("malformed JSON: %v", err)
	}
	obj, err := v.Object()
	if err != nil {
		return m, jsonwire.Invalid("a memory must be a JSON object, got %s", v.Type())
	}
	var (
		first               error
		hasConfidence       bool
		memType, unknownKey string
	)
	obj.Visit(func(key []byte, f *fastjson.Value) {
		if first != nil {
			return
		}
		null := f.Type() == fastjson.TypeNull
		var err error
		switch k := string(key); k {
		case "id":
			if !null {
				m.ID, err = jsonwire.String(f, k)
			}
		case "content":
			if !null {
				m.Content, err = jsonwire.String(f, k)
			}
		case "embedding":
			switch {
			case vec != nil:
				m.Embedding = vec // f is the empty placeholder left in its place
			case !null:
				m.Embedding, err = jsonwire.Embedding(f, k)
			}
		case "confidence":
			if !null {
				m.Confidence, err = jsonwire.Range(f, k, 0, 1)
				hasConfidence = true
			}
		case "observed_at":
			if !null {
				m.ObservedAt, err = jsonwire.Time(f, k)
			}
		case "stored_at":
			if !null {
				m.StoredAt, err = jsonwire.Time(f, k)
			}
		case "last_access":
			if !null {
				m.LastAccess, err = jsonwire.Time(f, k)
			}
		case "access_count":
			if !null {
				var n int
				if n, err = jsonwire.Int(f, k); err == nil && (n < 0 || n > math.MaxUint32) {
					err = jsonwire.Invalid("access_count must be between 0 and %d, got %d", uint32(math.MaxUint32), n)
				}
				m.AccessCount = uint32(n)
			}
		case "tags":
			if !null {
				m.Tags, err = jsonwire.Strings(f, k)
			}
		case "memory_type":
			if !null {
				memType, err = jsonwire.String(f, k)
			}
		case "episode":
			if !null {
				m.Episode, err = parseEpisodeObject(f)
			}
		case "citations":
			if !null {
				m.Citations, err = jsonwire.Strings(f, k)
			}
		default:
			unknownKey = k
		}
		if err == nil && unknownKey != "" {
			err = jsonwire.Invalid("unknown field %q; a memory line has %s", unknownKey, memoryLineFields)
		}
		first = err
	})
	if first != nil {
		return engine.Memory{}, first
	}
	if m.ID == "" {
		return engine.Memory{}, jsonwire.Invalid("id is required: imports keep ids so that importing twice replaces rather than duplicates")
	}
	if m.Content == "" {
		return engine.Memory{}, jsonwire.Invalid("content is required")
	}
	if m.Type, err = engine.ParseMemoryType(memType); err != nil {
		return engine.Memory{}, jsonwire.Invalid("memory_type must be episodic, semantic or procedural, got %q", memType)
	}
	if !hasConfidence {
		m.Confidence = engine.DefaultConfid
	}
	m.Tags, m.Citations = nilIfEmpty(m.Tags), nilIfEmpty(m.Citations)
	return m, nil
}

// nilIfEmpty gives empty lists the engine's spelling, nil, so that an imported memory
// equals its source field for field.
func nilIfEmpty(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	return ss
}

// parseEpisodeObject reads the episode object of a transfer line.
func parseEpisodeObject(v *fastjson.Value) (*engine.Episode, error) {
	obj, err := v.Object()
	if err != nil {
		return nil, jsonwire.Invalid("episode must be an object or null, got %s", v.Type())
	}
	var ep engine.Episode
	var first error
	obj.Visit(func(key []byte, f *fastjson.Value) {
		if first != nil || f.Type() == fastjson.TypeNull {
			return
		}
		var err error
		switch k := string(key); k {
		case "where_location":
			ep.Where, err = jsonwire.String(f, "episode.where_location")
		case "who":
			ep.Who, err = jsonwire.Strings(f, "episode.who")
		case "why":
			ep.Why, err = jsonwire.String(f, "episode.why")
		case "how":
			ep.How, err = jsonwire.String(f, "episode.how")
		case "emotional_valence":
			ep.EmotionalValence, err = jsonwire.Range(f, "episode.emotional_valence", -1, 1)
		case "importance":
			ep.Importance, err = jsonwire.Range(f, "episode.importance", 0, 1)
		default:
			err = jsonwire.Invalid("unknown field episode.%s; an episode has where_location, who, why, how, emotional_valence, importance", k)
		}
		first = err
	})
	if first != nil {
		return nil, first
	}
	ep.Who = nilIfEmpty(ep.Who)
	return &ep, nil
}
