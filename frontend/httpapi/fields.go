package httpapi

import (
	"strings"
	"time"

	"github.com/engram-go/engram/internal/jsonwire"
	"github.com/valyala/fastjson"
)

// The typed field readers live in internal/jsonwire, shared with the transfer format
// (engine/transfer). Their errors match engine.ErrInvalidInput: 400 INVALID_MEMORY_INPUT.

func fieldString(v *fastjson.Value, name string) (string, error) { return jsonwire.String(v, name) }
func fieldBool(v *fastjson.Value, name string) (bool, error)     { return jsonwire.Bool(v, name) }
func fieldRange(v *fastjson.Value, name string, lo, hi float64) (float32, error) {
	return jsonwire.Range(v, name, lo, hi)
}
func fieldStrings(v *fastjson.Value, name string) ([]string, error) { return jsonwire.Strings(v, name) }
func fieldEmbedding(v *fastjson.Value, name string) ([]float32, error) {
	return jsonwire.Embedding(v, name)
}
func fieldTime(v *fastjson.Value, name string) (time.Time, error) { return jsonwire.Time(v, name) }
func parseTime(s string) (time.Time, error)                       { return jsonwire.ParseTime(s) }

// splitList splits a comma list, trimming blanks and dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
