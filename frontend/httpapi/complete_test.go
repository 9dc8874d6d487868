package httpapi

import (
	"errors"
	"math"
	"testing"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/valyala/fastjson"
)

// FuzzCompletionRequest checks the decoder of POST /api/v1/complete bodies: it never
// panics, a refused body is a 400 naming what is wrong, and an accepted one holds only
// strings, finite numbers and a threshold in [0, 1].
func FuzzCompletionRequest(f *testing.F) {
	for _, seed := range []string{
		`{"known_fields":{"what":"x"},"missing_fields":["where"]}`,
		`{"partial_pattern":{"fragments":[{"known_fields":{"what":"x","when":"2024-01-01T00:00:00Z"}}],"completion_threshold":0.4}}`,
		`{"partial_pattern":{"fragments":[]}}`, `{"known_fields":{"what":3}}`, `{"embedding":[1,2,NaN]}`,
		`{"completion_threshold":2}`, `{"missing_fields":"where"}`, `[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := fastjson.ParseBytes(body)
		if err != nil || v.Type() != fastjson.TypeObject {
			return
		}
		req, err := readCompletionRequest(v)
		if err != nil {
			// The field readers return engine.ErrInvalidInput, which the error writer
			// answers as a 400: check what the client receives.
			if fe := frontend.FromError(err); fe.Status != 400 || fe.Message == "" {
				t.Fatalf("refusal %v is not a 400 with a message", err)
			}
			return
		}
		if !(req.Threshold >= 0 && req.Threshold <= 1) {
			t.Fatalf("accepted threshold %v", req.Threshold)
		}
		for _, x := range req.Embedding {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("accepted embedding value %v", x)
			}
		}
		if err := req.Validate(); err != nil && !errors.Is(err, engine.ErrInvalidInput) {
			t.Fatalf("Validate: %v is not ErrInvalidInput", err)
		}
	})
}
