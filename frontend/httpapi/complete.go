package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/engram-go/engram/engine"
	"github.com/valyala/fastjson"
)

type fieldValueJSON struct {
	Value          string   `json:"value"`
	Confidence     float32  `json:"confidence"`
	Source         string   `json:"source"`
	SourceMemories []string `json:"source_memories"`
}

type fieldCompletionJSON struct {
	Field string `json:"field"`
	fieldValueJSON
	Alternatives []fieldValueJSON `json:"alternatives"`
}

type completeAnswer struct {
	CompletedEpisode     map[string]string     `json:"completed_episode"`
	Fields               []fieldCompletionJSON `json:"fields"`
	UnresolvedFields     []string              `json:"unresolved_fields"`
	CompletionConfidence confidenceInfo        `json:"completion_confidence"`
	FieldConfidences     map[string]float32    `json:"field_confidences"`
	Evidence             []memoryResult        `json:"evidence"`
	MemorySpaceID        string                `json:"memory_space_id"`
}

// maxEvidence bounds the memories an answer lists as evidence.
const maxEvidence = 10

func newFieldValueJSON(v *engine.FieldValue) fieldValueJSON {
	return fieldValueJSON{Value: v.Value, Confidence: finite32(v.Confidence), Source: v.Source, SourceMemories: v.Memories}
}

// handleComplete serves POST /api/v1/complete: fill the missing fields of a partial
// episode from the space's memories (Space.Complete). 422 when nothing stored supports
// any of them.
func (s *Server) handleComplete(rq *request) error {
	v, err := rq.jsonObject()
	if err != nil {
		return err
	}
	req, err := readCompletionRequest(v)
	if err != nil {
		return err
	}
	sp, id, err := rq.readSpaceOf(v)
	if err != nil {
		return err
	}
	if sp == nil {
		if err := req.Validate(); err != nil {
			return err
		}
		return fmt.Errorf("%w: space %q holds no memories", engine.ErrInsufficientEvidence, id)
	}
	c, err := sp.Complete(context.Background(), req)
	if err != nil {
		return err
	}
	a := completeAnswer{CompletedEpisode: map[string]string{}, Fields: []fieldCompletionJSON{}, UnresolvedFields: c.Unresolved,
		FieldConfidences: map[string]float32{}, Evidence: memoryResults(c.Evidence[:min(len(c.Evidence), maxEvidence)]), MemorySpaceID: id}
	for k, val := range req.Known {
		a.CompletedEpisode[engine.CanonicalField(k)] = strings.TrimSpace(val)
	}
	for i := range c.Fields {
		f := &c.Fields[i]
		fj := fieldCompletionJSON{Field: f.Field, fieldValueJSON: newFieldValueJSON(&f.FieldValue), Alternatives: []fieldValueJSON{}}
		for j := range f.Alternatives {
			fj.Alternatives = append(fj.Alternatives, newFieldValueJSON(&f.Alternatives[j]))
		}
		a.Fields = append(a.Fields, fj)
		a.CompletedEpisode[f.Field] = f.Value
		a.FieldConfidences[f.Field] = finite32(f.Confidence)
	}
	if a.UnresolvedFields == nil {
		a.UnresolvedFields = []string{}
	}
	a.CompletionConfidence = newConfidence(c.Confidence, fmt.Sprintf(
		"Mean confidence of the %d fields filled over the %d asked for; each from the support of the memories that hold it.",
		len(c.Fields), len(c.Fields)+len(c.Unresolved)))
	return writeJSON(rq.ctx, http.StatusOK, &a)
}

// readCompletionRequest reads the partial episode: the Rust shape
// {"partial_pattern": {"fragments": [{"known_fields", "missing_fields"}], "completion_threshold"}}
// or the flat {"known_fields", "missing_fields", "completion_threshold"}, plus "embedding".
func readCompletionRequest(v *fastjson.Value) (engine.CompletionRequest, error) {
	var req engine.CompletionRequest
	src := v
	if pp := optValue(v, "partial_pattern"); pp != nil {
		frags := optValue(pp, "fragments")
		if frags == nil || frags.Type() != fastjson.TypeArray || len(frags.GetArray()) != 1 {
			return req, invalidInput("partial_pattern.fragments must be an array of one partial episode")
		}
		t, err := optRange(pp, "completion_threshold", 0, 1)
		if err != nil {
			return req, err
		}
		req.Threshold = t
		src = frags.GetArray()[0]
	} else {
		t, err := optRange(v, "completion_threshold", 0, 1)
		if err != nil {
			return req, err
		}
		req.Threshold = t
	}
	if kf := optValue(src, "known_fields"); kf != nil {
		obj, err := kf.Object()
		if err != nil {
			return req, invalidInput("known_fields must be an object of field names to strings, got %s", kf.Type())
		}
		req.Known = map[string]string{}
		obj.Visit(func(k []byte, f *fastjson.Value) {
			if err != nil {
				return
			}
			var s string
			if s, err = fieldString(f, "known_fields."+string(k)); err == nil {
				req.Known[string(k)] = s
			}
		})
		if err != nil {
			return req, err
		}
	}
	if mf := optValue(src, "missing_fields"); mf != nil {
		var err error
		if req.Missing, err = fieldStrings(mf, "missing_fields"); err != nil {
			return req, err
		}
	}
	var err error
	req.Embedding, err = optEmbedding(v, "embedding")
	return req, err
}
