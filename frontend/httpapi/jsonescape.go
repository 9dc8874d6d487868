package httpapi

import (
	"github.com/engram-go/engram/internal/jsonwire"
	"github.com/valyala/fastjson"
)

// parseJSON parses JSON from a client, refusing the escapes jsonwire.CheckEscapes refuses.
func parseJSON(p *fastjson.Parser, b []byte) (*fastjson.Value, error) { return jsonwire.Parse(p, b) }

func checkEscapes(b []byte) error { return jsonwire.CheckEscapes(b) }
