package jsonwire

import (
	"github.com/engram-go/engram/internal/vecjson"
	"github.com/valyala/fastjson"
)

// BytesPerValue sets the bound on the JSON values of one parse: a body limit divided by
// BytesPerValue, at least MinParsedValues. fastjson spends about 440 bytes on each value
// however small (an 80-byte value in a cache that grows by append, which copies it about
// five times over, and a pointer in its array), so a parse costs at most about 0.9 × the
// body limit however the body is shaped (docs/operations.md). Embeddings read ahead by
// vecjson.Cut do not count: they are never parsed as values.
const (
	BytesPerValue   = 512
	MinParsedValues = 1024
)

// MaxParsedValues is the bound on the values of one parse for a body limit.
func MaxParsedValues(maxBodyBytes int) int {
	return max(maxBodyBytes/BytesPerValue, MinParsedValues)
}

// Parse is p.ParseBytes(b) for JSON from clients. vecjson.Check first holds b to RFC 8259
// — fastjson is laxer: it takes 01, 1., .5, NaN, unknown escapes and lone surrogates, and
// decodes the last two best effort, so stored text would differ from what the client sent
// — and to at most maxValues values, allocating nothing, so that a hostile body is refused
// before fastjson materialises it.
func Parse(p *fastjson.Parser, b []byte, maxValues int) (*fastjson.Value, error) {
	if _, err := vecjson.Check(b, maxValues); err != nil {
		return nil, err
	}
	return p.ParseBytes(b)
}

// ParseMemory parses a memory object with p, its embedding read ahead by vecjson.Cut
// (2.3× faster than fastjson alone: BenchmarkDecodeRemember) into dst when it has room.
// When vec is not nil it is the body's embedding, and the "embedding" value of v is an
// empty placeholder. The rest holds at most maxValues values (Parse).
func ParseMemory(p *fastjson.Parser, b []byte, dst []float32, maxValues int) (v *fastjson.Value, vec []float32, err error) {
	if rest, vec, ok := vecjson.Cut(b, dst); ok {
		if v, err := Parse(p, rest, maxValues); err == nil {
			return v, vec, nil
		}
		// The rest is malformed: parse it all again so the error names the client's offsets.
	}
	v, err = Parse(p, b, maxValues)
	return v, nil, err
}
