package httpapi

import (
	"github.com/engram-go/engram/internal/vecjson"
	"github.com/valyala/fastjson"
)

// parseMemoryJSON parses a memory object with p, its embedding read ahead by vecjson.Cut
// (2.3× faster than fastjson alone: BenchmarkDecodeRemember) into dst when it has room.
// When vec is not nil it is the body's embedding, and the "embedding" value of v is an
// empty placeholder. The rest holds at most maxValues values (parseJSON).
func parseMemoryJSON(p *fastjson.Parser, b []byte, dst []float32, maxValues int) (v *fastjson.Value, vec []float32, err error) {
	if rest, vec, ok := vecjson.Cut(b, dst); ok {
		if v, err := parseJSON(p, rest, maxValues); err == nil {
			return v, vec, nil
		}
		// The rest is malformed: parse it all again so the error names the client's offsets.
	}
	v, err = parseJSON(p, b, maxValues)
	return v, nil, err
}
