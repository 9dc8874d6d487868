package httpapi

import (
	"strings"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/valyala/fastjson"
)

// rememberInput is a decoded remember (or episode) body.
type rememberInput struct {
	mem           engine.Memory
	opts          engine.RememberOptions
	space         string    // the body's memory_space / memory_space_id
	vec           []float32 // the embedding parseMemoryJSON read ahead, if it did
	confidenceSet bool      // the client gave a confidence (or importance)
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
		first      error
		hasContent bool
		memType    = ""
		spaces     bodySpaces
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
		case "confidence":
			in.mem.Confidence, err = fieldRange(f, "confidence", 0, 1)
			in.confidenceSet = true
		case "timestamp":
			in.mem.ObservedAt, err = fieldTime(f, "timestamp")
		case "memory_type":
			memType, err = fieldString(f, "memory_type")
		default:
			err = in.commonField(string(key), f, &spaces)
		}
		first = err
	})
	if first != nil {
		return first
	}
	if !hasContent {
		return invalidInput("content is required")
	}
	if err := frontend.CheckContent("content", in.mem.Content, maxContent); err != nil {
		return err
	}
	if err := in.checkID(); err != nil {
		return err
	}
	t, err := engine.ParseMemoryType(memType)
	if err != nil {
		return invalidInput("memory_type must be episodic, semantic or procedural, got %q", memType)
	}
	in.mem.Type = t
	if !in.confidenceSet {
		in.mem.Confidence = engine.DefaultConfid
	}
	in.space, err = bodySpace(spaces.name, spaces.id)
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
		first              error
		hasWhat, hasWhen   bool
		importance, confid float32
		hasImp, hasConfid  bool
		spaces             bodySpaces
		ep                 engine.Episode
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
		default:
			err = in.commonField(string(key), f, &spaces)
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
	if err := frontend.CheckContent("what", in.mem.Content, maxContent); err != nil {
		return err
	}
	if err := in.checkID(); err != nil {
		return err
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
	in.space, err = bodySpace(spaces.name, spaces.id)
	return err
}

// bodySpaces holds the two body fields that may name the space.
type bodySpaces struct{ name, id string }

// commonField reads the fields remember and episode bodies share: embedding, tags, id,
// auto_link, link_threshold and the space fields. Other keys are ignored.
func (in *rememberInput) commonField(key string, f *fastjson.Value, spaces *bodySpaces) error {
	var err error
	switch key {
	case "embedding":
		if in.vec != nil {
			in.mem.Embedding = in.vec // f is the empty placeholder left in its place
		} else {
			in.mem.Embedding, err = fieldEmbedding(f, "embedding")
		}
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
		spaces.name, err = fieldString(f, "memory_space")
	case "memory_space_id":
		spaces.id, err = fieldString(f, "memory_space_id")
	}
	return err
}

// checkID validates a client-chosen id, naming the field.
func (in *rememberInput) checkID() error {
	if in.mem.ID == "" {
		return nil
	}
	if err := engine.ValidateID(in.mem.ID); err != nil {
		return invalidInput("id: %s", strings.TrimPrefix(err.Error(), engine.ErrInvalidInput.Error()+": "))
	}
	return nil
}

// fieldWho accepts a list of names or a single name.
func fieldWho(f *fastjson.Value) ([]string, error) {
	if f.Type() == fastjson.TypeString {
		return []string{string(f.GetStringBytes())}, nil
	}
	return fieldStrings(f, "who")
}
