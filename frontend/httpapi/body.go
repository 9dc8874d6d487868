package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/internal/vecjson"
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

// jsonBytes checks the Content-Type of a body that must be JSON and returns the body.
func (rq *request) jsonBytes() ([]byte, bodyKind, error) {
	ct := rq.ctx.Request.Header.ContentType()
	kind := classifyContentType(ct)
	if kind != bodyJSON && kind != bodyForm {
		return nil, kind, unsupportedMediaType(ct, "application/json")
	}
	body := rq.ctx.Request.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, kind, badRequest("the request body is empty; send a JSON object")
	}
	return body, kind, nil
}

// notForm is the answer to a form body that is not JSON: a real form post, not curl's
// default label on a JSON body.
func (rq *request) notForm() error {
	return unsupportedMediaType(rq.ctx.Request.Header.ContentType(), "application/json (a form body is accepted only when it is JSON)")
}

// memoryBody parses the body, a memory or a recall, as one JSON value; vec is its
// embedding when parseMemoryJSON read it ahead of the parser. The key is checked against
// the space the request names outside its body first (preauthorize).
func (rq *request) memoryBody() (v *fastjson.Value, vec []float32, err error) {
	if err := rq.preauthorize(); err != nil {
		return nil, nil, err
	}
	body, kind, err := rq.jsonBytes()
	if err != nil {
		return nil, nil, err
	}
	maxValues := rq.srv.maxValues
	v, vec, err = parseMemoryJSON(rq.borrowParser(), body, rq.borrowVec(), maxValues)
	if cap(vec) > cap(*rq.vecs) {
		*rq.vecs = vec[:0] // the next request reuses this one
	}
	if err != nil {
		if kind == bodyForm && !errors.Is(err, vecjson.ErrTooManyValues) {
			return nil, nil, rq.notForm()
		}
		return nil, nil, bodyError(err, maxValues)
	}
	return v, vec, nil
}

// checkedObject checks that the body is one JSON object of at most the parse bound's
// values, without parsing it into values, for a handler that decodes it another way.
func (rq *request) checkedObject() ([]byte, error) {
	body, kind, err := rq.jsonBytes()
	if err != nil {
		return nil, err
	}
	if _, err := vecjson.Check(body, rq.srv.maxValues); err != nil {
		if kind == bodyForm && !errors.Is(err, vecjson.ErrTooManyValues) {
			return nil, rq.notForm()
		}
		return nil, bodyError(err, rq.srv.maxValues)
	}
	if t := vecjson.TypeName(body); t != "object" {
		return nil, badRequest("the request body must be a JSON object, got %s", t)
	}
	return body, nil
}

// jsonObject parses a body that must be one JSON object, held to the parse bound like
// every body (parseJSON). The key is checked against the space the request names outside
// its body first (preauthorize).
func (rq *request) jsonObject() (*fastjson.Value, error) {
	if err := rq.preauthorize(); err != nil {
		return nil, err
	}
	body, kind, err := rq.jsonBytes()
	if err != nil {
		return nil, err
	}
	v, err := parseJSON(rq.borrowParser(), body, rq.srv.maxValues)
	if err != nil {
		if kind == bodyForm && !errors.Is(err, vecjson.ErrTooManyValues) {
			return nil, rq.notForm()
		}
		return nil, bodyError(err, rq.srv.maxValues)
	}
	if v.Type() != fastjson.TypeObject {
		return nil, badRequest("the request body must be a JSON object, got %s", v.Type())
	}
	return v, nil
}
