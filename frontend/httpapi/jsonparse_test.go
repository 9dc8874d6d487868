package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/engram-go/engram/internal/vecjson"
	"github.com/valyala/fastjson"
)

// TestParseJSONEscapes: parseJSON refuses the escapes fastjson would decode best effort.
func TestParseJSONEscapes(t *testing.T) {
	tests := []struct {
		name, body string
		bad        string // a fragment of the error, "" when the body passes
	}{
		{"no strings", `[1, 2.5, true, null]`, ""},
		{"plain", `{"content":"hello"}`, ""},
		{"simple escapes", `{"content":"a\"b\\c\/d\be\ff\ng\rh\ti"}`, ""},
		{"bmp escape", `{"content":"caf\u00e9 \u00E9"}`, ""},
		{"surrogate pair", `{"content":"\ud83d\ude00"}`, ""},
		{"escaped backslash then u", `{"content":"\\ud800"}`, ""},
		{"escape in a key", `{"con\u0074ent":"x"}`, ""},
		{"unknown escape", `{"content":"a\xb"}`, `invalid escape "\\x"`},
		{"short unicode escape", `{"content":"\u12"}`, "four hex digits"},
		{"non-hex unicode escape", `{"content":"\uZZZZ"}`, "four hex digits"},
		{"lone high surrogate", `{"content":"\ud800"}`, `\uD800`},
		{"high then a non-surrogate", `{"content":"\ud800\u0041"}`, `\uD800`},
		{"high then a high", `{"content":"\ud800\ud800"}`, `\uD800`},
		{"lone low surrogate", `{"content":"x\udc00"}`, `\uDC00`},
		{"in a later field", `{"content":"ok","tags":["\udfff"]}`, `\uDFFF`},
		{"unterminated string", `{"content":"abc`, "unterminated string"},
		{"backslash at the end", `{"content":"abc\`, "unterminated string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p fastjson.Parser
			_, err := parseJSON(&p, []byte(tc.body), 0)
			switch {
			case tc.bad == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.bad != "" && err == nil:
				t.Fatalf("accepted, want an error mentioning %s", tc.bad)
			case tc.bad != "" && !strings.Contains(err.Error(), tc.bad):
				t.Fatalf("error %q does not mention %s", err, tc.bad)
			}
		})
	}
}

// FuzzCheckEscapes: a JSON string that vecjson.Check accepts decodes to the same text with
// fastjson as with encoding/json.
func FuzzCheckEscapes(f *testing.F) {
	for _, s := range []string{`plain`, `a\"b`, `\u00e9`, `\ud83d\ude00`, `\\ud800`, `\ud800`, `\u12`, `\x`, `\ud800\u0041`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		body := []byte(`"` + s + `"`)
		// Invalid UTF-8 is refused later, field by field (fastjson keeps the bytes,
		// encoding/json turns them into U+FFFD).
		if !utf8.ValidString(s) || !json.Valid(body) {
			return
		}
		if _, err := vecjson.Check(body, 0); err != nil {
			return
		}
		var want string
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatal(err)
		}
		v, err := fastjson.ParseBytes(body)
		if err != nil {
			return // fastjson is stricter about something else (control characters): refused either way
		}
		got, err := v.StringBytes()
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Fatalf("fastjson decodes %q to %q, encoding/json to %q", body, got, want)
		}
	})
}
