package httpapi

import (
	"bytes"

	"github.com/engram-go/engram/engine"
	"github.com/valyala/fastjson"
)

// Optional fields of a JSON body object, for the routes whose bodies are small enough to
// be read by name rather than in one visit. Absent and null read as the zero value.

func optValue(v *fastjson.Value, name string) *fastjson.Value {
	f := v.Get(name)
	if f == nil || f.Type() == fastjson.TypeNull {
		return nil
	}
	return f
}

func optString(v *fastjson.Value, name string) (string, error) {
	if f := optValue(v, name); f != nil {
		return fieldString(f, name)
	}
	return "", nil
}

// spaceOfBody reads the body's memory_space / memory_space_id.
func spaceOfBody(v *fastjson.Value) (string, error) {
	name, err := optString(v, "memory_space")
	if err != nil {
		return "", err
	}
	id, err := optString(v, "memory_space_id")
	if err != nil {
		return "", err
	}
	return bodySpace(name, id)
}

func optEmbedding(v *fastjson.Value, name string) ([]float32, error) {
	if f := optValue(v, name); f != nil {
		return fieldEmbedding(f, name)
	}
	return nil, nil
}

// optRange reads an optional number in [lo, hi]; absent reads as 0.
func optRange(v *fastjson.Value, name string, lo, hi float64) (float32, error) {
	if f := optValue(v, name); f != nil {
		return fieldRange(f, name, lo, hi)
	}
	return 0, nil
}

// optionalObject is jsonObject for routes whose body may be empty: nil then.
func (rq *request) optionalObject() (*fastjson.Value, error) {
	if len(bytes.TrimSpace(rq.ctx.Request.Body())) == 0 {
		return nil, nil
	}
	return rq.jsonObject()
}

// readSpaceOf is readSpace with the body's space fields (v may be nil: no body).
func (rq *request) readSpaceOf(v *fastjson.Value) (*engine.Space, string, error) {
	var body string
	if v != nil {
		var err error
		if body, err = spaceOfBody(v); err != nil {
			return nil, "", err
		}
	}
	return rq.readSpace(body)
}
