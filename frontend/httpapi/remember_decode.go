package httpapi

import (
	"strings"

	"github.com/engram-go/engram/engine"
	"github.com/valyala/fastjson"
)

// rememberInput is a decoded remember (or episode) body.
type rememberInput struct {
	mem           engine.Memory
	opts          engine.RememberOptions
	space         string // the body's memory_space / memory_space_id
	confidenceSet bool   // the client gave a confidence (or importance)
	autoLinkSet   bool
	thresholdSet  bool
}

// decodeRemember reads a remember body: content, embedding, confidence, timestamp, id,
// tags, memory_type, auto_link, link_threshold, memory_space / memory_space_id. Unknown
// keys are ignored (clients of other Engram servers send extra ones); null counts as
// absent. The body is walked once; this is the hot decoding path of ingestion.
func decodeRemember(v *fastjson.Value, maxContent int, in *rememberInput) error {
	obj, err := v.Object()
	if err != nil {
		return invalidInput("a memory must be a JSON object, got %s", v.Type())
	}
	var (
		first                error
		hasContent           bool
		memType              = ""
		spaceName, spaceIDv2 string
	)
	obj.Visit(func(key []byte, f *fastjson.Value) {
		if first != nil || f.Type() == fastjson.TypeNull {
			return
		}
		var err error
		switch string(key) {
		case "content":
			in.mem.Content, err = fieldString(f, "content")
			hasContent = true
		case "embedding":
			in.mem.Embedding, err = fieldEmbedding(f, "embedding")
		case "confidence":
			in.mem.Confidence, err = fieldRange(f, "confidence", 0, 1)
			in.confidenceSet = true
		case "timestamp":
			in.mem.ObservedAt, err = fieldTime(f, "timestamp")
		case "id":
			in.mem.ID, err = fieldString(f, "id")
		case "tags":
			in.mem.Tags, err = fieldStrings(f, "tags")
		case "memory_type":
			memType, err = fieldString(f, "memory_type")
		case "auto_link":
			in.opts.AutoLink, err = fieldBool(f, "auto_link")
			in.autoLinkSet = true
		case "link_threshold":
			in.opts.LinkThreshold, err = fieldRange(f, "link_threshold", 0, 1)
			in.thresholdSet = true
		case "memory_space":
			spaceName, err = fieldString(f, "memory_space")
		case "memory_space_id":
			spaceIDv2, err = fieldString(f, "memory_space_id")
		}
		first = err
	})
	if first != nil {
		return first
	}
	if !hasContent {
		return invalidInput("content is required")
	}
	if err := checkContent("content", in.mem.Content, maxContent); err != nil {
		return err
	}
	if in.mem.ID != "" {
		if err := engine.ValidateID(in.mem.ID); err != nil {
			return invalidInput("id: %s", strings.TrimPrefix(err.Error(), engine.ErrInvalidInput.Error()+": "))
		}
	}
	t, err := engine.ParseMemoryType(memType)
	if err != nil {
		return invalidInput("memory_type must be episodic, semantic or procedural, got %q", memType)
	}
	in.mem.Type = t
	if !in.confidenceSet {
		in.mem.Confidence = engine.DefaultConfid
	}
	in.space, err = bodySpace(spaceName, spaceIDv2)
	return err
}

// decodeEpisode reads an episode body: what and when (required), where_location (alias
// where), who, why, how, importance (alias confidence), emotional_valence, embedding,
// tags, id, auto_link, link_threshold and the space fields. It becomes an episodic memory
// whose content is what.
func decodeEpisode(v *fastjson.Value, maxContent int, in *rememberInput) error {
	obj, err := v.Object()
	if err != nil {
		return invalidInput("an episode must be a JSON object, got %s", v.Type())
	}
	var (
		first                error
		hasWhat, hasWhen     bool
		importance, confid   float32
		hasImp, hasConfid    bool
		spaceName, spaceIDv2 string
		ep                   engine.Episode
	)
	obj.Visit(func(key []byte, f *fastjson.Value) {
		if first != nil || f.Type() == fastjson.TypeNull {
			return
		}
		var err error
		switch string(key) {
		case "what":
			in.mem.Content, err = fieldString(f, "what")
			hasWhat = true
		case "when":
			in.mem.ObservedAt, err = fieldTime(f, "when")
			hasWhen = true
		case "where_location":
			ep.Where, err = fieldString(f, "where_location")
		case "where":
			if ep.Where == "" {
				ep.Where, err = fieldString(f, "where")
			}
		case "who":
			ep.Who, err = fieldWho(f)
		case "why":
			ep.Why, err = fieldString(f, "why")
		case "how":
			ep.How, err = fieldString(f, "how")
		case "importance":
			importance, err = fieldRange(f, "importance", 0, 1)
			hasImp = true
		case "confidence":
			confid, err = fieldRange(f, "confidence", 0, 1)
			hasConfid = true
		case "emotional_valence":
			ep.EmotionalValence, err = fieldRange(f, "emotional_valence", -1, 1)
		case "embedding":
			in.mem.Embedding, err = fieldEmbedding(f, "embedding")
		case "tags":
			in.mem.Tags, err = fieldStrings(f, "tags")
		case "id":
			in.mem.ID, err = fieldString(f, "id")
		case "auto_link":
			in.opts.AutoLink, err = fieldBool(f, "auto_link")
			in.autoLinkSet = true
		case "link_threshold":
			in.opts.LinkThreshold, err = fieldRange(f, "link_threshold", 0, 1)
			in.thresholdSet = true
		case "memory_space":
			spaceName, err = fieldString(f, "memory_space")
		case "memory_space_id":
			spaceIDv2, err = fieldString(f, "memory_space_id")
		}
		first = err
	})
	if first != nil {
		return first
	}
	switch {
	case !hasWhat:
		return invalidInput("what is required")
	case !hasWhen:
		return invalidInput("when is required (an RFC 3339 time)")
	}
	if err := checkContent("what", in.mem.Content, maxContent); err != nil {
		return err
	}
	if in.mem.ID != "" {
		if err := engine.ValidateID(in.mem.ID); err != nil {
			return invalidInput("id: %s", strings.TrimPrefix(err.Error(), engine.ErrInvalidInput.Error()+": "))
		}
	}
	switch {
	case hasImp:
		in.mem.Confidence, in.confidenceSet = importance, true
	case hasConfid:
		in.mem.Confidence, in.confidenceSet = confid, true
	default:
		in.mem.Confidence = engine.DefaultConfid
	}
	ep.Importance = in.mem.Confidence
	in.mem.Type = engine.Episodic
	in.mem.Episode = &ep
	in.space, err = bodySpace(spaceName, spaceIDv2)
	return err
}

// fieldWho accepts a list of names or a single name.
func fieldWho(f *fastjson.Value) ([]string, error) {
	if f.Type() == fastjson.TypeString {
		return []string{string(f.GetStringBytes())}, nil
	}
	return fieldStrings(f, "who")
}

// checkContent enforces the non-empty rule and the [limits] max_content_bytes limit.
func checkContent(name, s string, limit int) error {
	if strings.TrimSpace(s) == "" {
		return invalidInput("%s must not be empty", name)
	}
	if len(s) > limit {
		return invalidInput("%s is %d bytes; the limit is %d bytes ([limits] max_content_bytes)", name, len(s), limit)
	}
	return nil
}
