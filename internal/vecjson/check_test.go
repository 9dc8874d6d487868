package vecjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	deep := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	tests := []struct {
		body   string
		values int    // when valid
		errHas string // "" when valid
	}{
		{`{}`, 1, ""},
		{` [ ] `, 1, ""},
		{`0`, 1, ""},
		{`-0.5e+10`, 1, ""},
		{`1E-2`, 1, ""},
		{`{"a":[1,2,{"b":null}],"c":true,"d":false}`, 8, ""},
		{`"\u00e9\ud83d\ude00\/\b\f\n\r\t\"\\"`, 1, ""},
		{deep, maxDepth, ""},

		{`01`, 0, "leading zero"},
		{`-01`, 0, "leading zero"},
		{`{"x":00}`, 0, "leading zero"},
		{`1.`, 0, "decimal point must be followed by digits"},
		{`[1.,2]`, 0, "decimal point must be followed by digits"},
		{`.5`, 0, "0.5, not .5"},
		{`-.5`, 0, "0.5, not .5"},
		{`+1`, 0, "no '+' sign"},
		{`[+1]`, 0, "no '+' sign"},
		{`1e`, 0, "exponent must have digits"},
		{`1e+`, 0, "exponent must have digits"},
		{`-x`, 0, "'-' must be followed by digits"},
		{`NaN`, 0, "no NaN or Infinity"},
		{`-Infinity`, 0, "no NaN or Infinity"},
		{`[Infinity]`, 0, "no NaN or Infinity"},
		{`0x10`, 0, "after the JSON value"},
		{`1 2`, 0, "after the JSON value"},
		{`tru`, 0, "invalid literal"},
		{`nul`, 0, "invalid literal"},
		{`"a` + "\n" + `"`, 0, "control character"},
		{`"a\qb"`, 0, "invalid escape"},
		{`"\ud800"`, 0, "unpaired UTF-16 surrogate"},
		{`"\udc00\ud800"`, 0, "unpaired UTF-16 surrogate"},
		{`"\u12"`, 0, "four hex digits"},
		{`"abc`, 0, "unterminated string"},
		{`{'a':1}`, 0, "object key"},
		{`{"a" 1}`, 0, "want ':'"},
		{`{"a":1 "b":2}`, 0, "want ',' or '}'"},
		{`[1 2]`, 0, "want ',' or ']'"},
		{`[1,]`, 0, "where a JSON value belongs"},
		{`{"a":1,}`, 0, "object key"},
		{`[1}`, 0, "want ',' or ']'"},
		{`{"a":1]`, 0, "want ',' or '}'"},
		{`[`, 0, "unexpected end"},
		{``, 0, "unexpected end"},
		{`   `, 0, "unexpected end"},
		{"[" + deep + "]", 0, "nesting deeper"},
	}
	for _, tc := range tests {
		n, err := Check([]byte(tc.body), 0)
		switch {
		case tc.errHas == "" && err != nil:
			t.Errorf("Check(%.40q) = %v, want valid", tc.body, err)
		case tc.errHas == "" && n != tc.values:
			t.Errorf("Check(%.40q) counted %d values, want %d", tc.body, n, tc.values)
		case tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)):
			t.Errorf("Check(%.40q) = %v, want an error with %q", tc.body, err, tc.errHas)
		}
		if tc.errHas != "" {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("Check(%.40q): %T is not a *SyntaxError", tc.body, err)
			}
		}
	}
}

func TestCheckBoundsValues(t *testing.T) {
	body := []byte(`{"query":"x","junk":[` + strings.TrimSuffix(strings.Repeat("0,", 1000), ",") + `]}`)
	if n, err := Check(body, 0); err != nil || n != 1003 {
		t.Fatalf("unbounded: %d, %v", n, err)
	}
	if _, err := Check(body, 1003); err != nil {
		t.Fatalf("bound 1003: %v", err)
	}
	if _, err := Check(body, 1002); !errors.Is(err, ErrTooManyValues) {
		t.Fatalf("bound 1002: %v, want ErrTooManyValues", err)
	}
}

func TestCheckAllocatesNothing(t *testing.T) {
	body := []byte(`{"content":"x \u00e9","tags":["a","b"],"embedding":[0.1,-2e-3,3],"n":null,"t":true}`)
	if a := testing.AllocsPerRun(100, func() {
		if _, err := Check(body, 0); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Fatalf("Check allocates %v times per valid body", a)
	}
}

func TestTypeName(t *testing.T) {
	for body, want := range map[string]string{`{}`: "object", ` []`: "array", `"x"`: "string", `-1`: "number", `true`: "true", `false`: "false", `null`: "null"} {
		if got := TypeName([]byte(body)); got != want {
			t.Errorf("TypeName(%s) = %s, want %s", body, got, want)
		}
	}
}

// FuzzCheck holds Check to encoding/json's verdict, which follows RFC 8259: Check accepts
// exactly what json.Valid accepts, less what Check refuses on purpose (unpaired
// surrogates, nesting beyond MaxDepth) and with no regard to UTF-8, which json.Valid does
// not judge either.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,-0]}`, `01`, `1.`, `.5`, `+1`, `"\ud800"`, `"\ud83d\ude00"`,
		`[1,]`, `{"a":tru}`, `-`, `1e+`, `"\u00zz"`, "\"\t\"", `[[[[]]]]`, `{"x":NaN}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := Check(b, 0)
		valid := json.Valid(b)
		if err == nil && !valid {
			t.Fatalf("Check accepts %q, which is not JSON", b)
		}
		if err != nil && valid {
			msg := err.Error()
			if strings.Contains(msg, "surrogate") || strings.Contains(msg, "nesting deeper") {
				return
			}
			t.Fatalf("Check refuses %q, which is JSON: %v", b, err)
		}
	})
}

// BenchmarkCheck validates a remember body: "whole" is the body as sent (6 KiB, mostly its
// 768-number embedding), "rest" what is left of it once Cut has read the embedding, which
// is what the request path checks.
func BenchmarkCheck(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"content":"the deploy broke the login page","tags":["ops","incident"],"confidence":0.9,"embedding":[`)
	for i := range 768 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "%.7f", float32(i%97)/97-0.5)
	}
	sb.WriteString(`],"timestamp":"2024-05-01T12:00:00Z"}`)
	whole := []byte(sb.String())
	rest, _, ok := Cut(whole, nil)
	if !ok {
		b.Fatal("Cut stepped aside")
	}
	for _, tc := range []struct {
		name string
		body []byte
	}{{"whole", whole}, {"rest", rest}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Check(tc.body, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
