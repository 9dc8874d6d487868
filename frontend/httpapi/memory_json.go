package httpapi

import (
	"github.com/engram-go/engram/internal/jsonwire"
	"github.com/valyala/fastjson"
)

// parseMemoryJSON parses a memory object, its embedding read ahead (jsonwire.ParseMemory).
func parseMemoryJSON(p *fastjson.Parser, b []byte, dst []float32) (*fastjson.Value, []float32, error) {
	return jsonwire.ParseMemory(p, b, dst)
}
