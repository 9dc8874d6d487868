package httpapi

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/engram-go/engram/frontend"
	"github.com/valyala/fastjson"
)

// bodyKind is what a request's Content-Type says of its body.
type bodyKind uint8

const (
	bodyJSON   bodyKind = iota // application/json, */*+json, text/json, or no Content-Type
	bodyForm                   // curl's default; accepted when the body is JSON
	bodyNDJSON                 // one JSON value per line (batch only)
	bodyOther
)

func classifyContentType(ct []byte) bodyKind {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.TrimSpace(ct)
	switch {
	case len(ct) == 0,
		bytes.EqualFold(ct, []byte("application/json")),
		bytes.EqualFold(ct, []byte("text/json")),
		len(ct) > 5 && bytes.EqualFold(ct[len(ct)-5:], []byte("+json")):
		return bodyJSON
	case bytes.EqualFold(ct, []byte("application/x-www-form-urlencoded")):
		return bodyForm
	case bytes.EqualFold(ct, []byte("application/x-ndjson")),
		bytes.EqualFold(ct, []byte("application/jsonl")),
		bytes.EqualFold(ct, []byte("application/x-jsonlines")):
		return bodyNDJSON
	}
	return bodyOther
}

func unsupportedMediaType(ct []byte, accepted string) *frontend.Error {
	fe := frontend.Errorf(http.StatusUnsupportedMediaType, frontend.CodeMediaType,
		fmt.Sprintf("Content-Type %q is not accepted here; send %s", ct, accepted))
	return fe
}

// borrowParser lends the request a parser from the pool; dispatch returns it after the
// handler, because parsed values point into the parser's memory.
func (rq *request) borrowParser() *fastjson.Parser {
	if rq.parser == nil {
		rq.parser = rq.srv.parsers.Get()
	}
	return rq.parser
}

// maxPooledVector bounds the embedding buffers kept for reuse, in floats.
const maxPooledVector = 16 << 10

// borrowVec lends the request a buffer for a memory body's embedding; dispatch takes it
// back after the handler, which therefore must not let the embedding outlive it (the
// engine keeps no reference to a remembered memory's embedding).
func (rq *request) borrowVec() []float32 {
	if rq.vecs == nil {
		rq.vecs, _ = rq.srv.vecs.Get().(*[]float32)
		if rq.vecs == nil {
			rq.vecs = new([]float32)
		}
	}
	return *rq.vecs
}

// jsonBody checks the Content-Type and parses the body as one JSON value.
func (rq *request) jsonBody() (*fastjson.Value, error) {
	v, _, err := rq.parseBody(false)
	return v, err
}

// memoryBody is jsonBody for a body holding one memory; vec is its embedding when
// parseMemoryJSON read it ahead of the parser.
func (rq *request) memoryBody() (v *fastjson.Value, vec []float32, err error) {
	return rq.parseBody(true)
}

func (rq *request) parseBody(memory bool) (v *fastjson.Value, vec []float32, err error) {
	ct := rq.ctx.Request.Header.ContentType()
	kind := classifyContentType(ct)
	if kind != bodyJSON && kind != bodyForm {
		return nil, nil, unsupportedMediaType(ct, "application/json")
	}
	body := rq.ctx.Request.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil, badRequest("the request body is empty; send a JSON object")
	}
	if memory {
		v, vec, err = parseMemoryJSON(rq.borrowParser(), body, rq.borrowVec())
		if cap(vec) > cap(*rq.vecs) {
			*rq.vecs = vec[:0] // the next request reuses this one
		}
	} else {
		v, err = parseJSON(rq.borrowParser(), body)
	}
	if err != nil {
		if kind == bodyForm {
			// A real form post, not curl's default label on a JSON body.
			return nil, nil, unsupportedMediaType(ct, "application/json (a form body is accepted only when it is JSON)")
		}
		return nil, nil, badRequest("malformed JSON body: %v", err)
	}
	return v, vec, nil
}

// jsonObject is jsonBody for routes whose body must be an object.
func (rq *request) jsonObject() (*fastjson.Value, error) {
	v, err := rq.jsonBody()
	if err != nil {
		return nil, err
	}
	if v.Type() != fastjson.TypeObject {
		return nil, badRequest("the request body must be a JSON object, got %s", v.Type())
	}
	return v, nil
}
