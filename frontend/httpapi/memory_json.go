package httpapi

import (
	"github.com/engram-go/engram/internal/jsonwire"
	"github.com/valyala/fastjson"
)

// parseMemoryJSON parses a memory object, its embedding read ahead, the rest bounded to
// maxValues values (jsonwire.ParseMemory).
func parseMemoryJSON(p *fastjson.Parser, b []byte, dst []float32, maxValues int) (*fastjson.Value, []float32, error) {
	return jsonwire.ParseMemory(p, b, dst, maxValues)
}
