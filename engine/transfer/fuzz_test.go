package transfer

import (
	"reflect"
	"testing"

	"github.com/valyala/fastjson"
)

// FuzzParseLine: a line ParseLine accepts writes back (AppendLine) to a line that parses
// to the very same memory, so an export of an import loses nothing.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","content":"c"}`,
		`{"id":"m:1","content":"x\u2028y","embedding":[1.0000001,-3e-38,0],"confidence":0.5,"observed_at":"2024-02-29T23:59:59.999999999Z",` +
			`"stored_at":null,"last_access":null,"access_count":7,"tags":["t"],"memory_type":"semantic","episode":{"where_location":"w","who":["x"],` +
			`"why":"","how":"","emotional_valence":-1,"importance":1},"citations":["e"]}`,
		`{"id":"a","content":"c","embedding":[1e39]}`,
		`{"id":"a","content":"\ud800"}`,
		`{"id":"a","content":"c","tier":"hot"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var p fastjson.Parser
		m, err := ParseLine(&p, line)
		if err != nil {
			return
		}
		out := AppendLine(nil, &m)
		again, err := ParseLine(&p, out[:len(out)-1])
		if err != nil {
			t.Fatalf("written line %q does not parse: %v", out, err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip changed the memory:\n got %+v\nwant %+v", again, m)
		}
	})
}
