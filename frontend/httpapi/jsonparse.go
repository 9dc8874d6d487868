package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/internal/jsonwire"
	"github.com/engram-go/engram/internal/vecjson"
	"github.com/valyala/fastjson"
)

// maxParsedValues is the bound on the values of one parse for a body limit.
func maxParsedValues(maxBodyBytes int) int { return jsonwire.MaxParsedValues(maxBodyBytes) }

// parseJSON is p.ParseBytes(b) for JSON from clients, held to RFC 8259 and to at most
// maxValues values before fastjson sees it (jsonwire.Parse).
func parseJSON(p *fastjson.Parser, b []byte, maxValues int) (*fastjson.Value, error) {
	return jsonwire.Parse(p, b, maxValues)
}

// tooManyValues is the answer to a body parseJSON refused for its number of values.
func tooManyValues(maxValues int) *frontend.Error {
	return frontend.Errorf(http.StatusRequestEntityTooLarge, frontend.CodeTooLarge,
		fmt.Sprintf("the body holds more than %d JSON values besides embeddings; the limit is max_body_bytes/%d ([limits] max_body_bytes)", maxValues, jsonwire.BytesPerValue))
}

// bodyError turns a parseJSON error into the answer: 413 for too many values, otherwise
// 400 naming the fault.
func bodyError(err error, maxValues int) *frontend.Error {
	if errors.Is(err, vecjson.ErrTooManyValues) {
		return tooManyValues(maxValues)
	}
	return badRequest("malformed JSON body: %v", err)
}
