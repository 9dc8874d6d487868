package httpapi

import (
	"encoding/json"
	"math"
	"sync"
	"time"

	"github.com/engram-go/engram/internal/jsonwire"
	"github.com/valyala/fasthttp"
)

// The hot answers (remember, batch, errors, stream frames) are appended into pooled
// buffers by hand; the rare, nested answers go through encoding/json.

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > 1<<20 { // do not keep the occasional huge answer alive in the pool
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// The JSON primitives live in internal/jsonwire, shared with the transfer format
// (engine/transfer); these names keep the handlers' code short.

func appendString(dst []byte, s string) []byte   { return jsonwire.AppendString(dst, s) }
func appendEscaped(dst []byte, s string) []byte  { return jsonwire.AppendEscaped(dst, s) }
func appendFloat32(dst []byte, f float32) []byte { return jsonwire.AppendFloat32(dst, f) }
func appendTime(dst []byte, t time.Time) []byte  { return jsonwire.AppendTime(dst, t) }

// writeRaw sends an already encoded JSON answer.
func writeRaw(ctx *fasthttp.RequestCtx, status int, body []byte) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(body)
}

// writeJSON encodes v with encoding/json and sends it.
func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	writeRaw(ctx, status, b)
	return nil
}

// jsonTime encodes as an RFC 3339 UTC string, or null for the zero time.
type jsonTime time.Time

func (t jsonTime) MarshalJSON() ([]byte, error) {
	return appendTime(nil, time.Time(t)), nil
}

// finite replaces NaN and ±Inf, which encoding/json refuses, by 0.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

func finite32(f float32) float32 { return float32(finite(float64(f))) }
