package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/internal/vecjson"
	"github.com/valyala/fastjson"
)

// bodyBytesPerValue sets the bound on the JSON values of one parse: max_body_bytes/512,
// at least minParsedValues. fastjson spends about 440 bytes on each value however small
// (an 80-byte value in a cache that grows by append, which copies it about five times
// over, and a pointer in its array), so a parse costs at most about 0.9 ×
// max_body_bytes however the body is shaped (docs/operations.md). Embeddings read ahead
// by vecjson.Cut do not count: they are never parsed as values.
const (
	bodyBytesPerValue = 512
	minParsedValues   = 1024
)

// maxParsedValues is the bound on the values of one parse for a body limit.
func maxParsedValues(maxBodyBytes int) int {
	return max(maxBodyBytes/bodyBytesPerValue, minParsedValues)
}

// parseJSON is p.ParseBytes(b) for JSON from clients. vecjson.Check first holds b to RFC
// 8259 — fastjson is laxer: it takes 01, 1., .5, NaN, unknown escapes and lone
// surrogates, and decodes the last two best effort, so stored text would differ from what
// the client sent — and to at most maxValues values, allocating nothing, so that a hostile
// body is refused before fastjson materialises it.
func parseJSON(p *fastjson.Parser, b []byte, maxValues int) (*fastjson.Value, error) {
	if _, err := vecjson.Check(b, maxValues); err != nil {
		return nil, err
	}
	return p.ParseBytes(b)
}

// tooManyValues is the answer to a body parseJSON refused for its number of values.
func tooManyValues(maxValues int) *frontend.Error {
	return frontend.Errorf(http.StatusRequestEntityTooLarge, frontend.CodeTooLarge,
		fmt.Sprintf("the body holds more than %d JSON values besides embeddings; the limit is max_body_bytes/%d ([limits] max_body_bytes)", maxValues, bodyBytesPerValue))
}

// bodyError turns a parseJSON error into the answer: 413 for too many values, otherwise
// 400 naming the fault.
func bodyError(err error, maxValues int) *frontend.Error {
	if errors.Is(err, vecjson.ErrTooManyValues) {
		return tooManyValues(maxValues)
	}
	return badRequest("malformed JSON body: %v", err)
}
