package jsonwire

import (
	"bytes"
	"fmt"

	"github.com/valyala/fastjson"
)

// Parse is p.ParseBytes(b) for JSON from clients: escapes CheckEscapes refuses never
// reach the parser's best-effort decoding.
func Parse(p *fastjson.Parser, b []byte) (*fastjson.Value, error) {
	if err := CheckEscapes(b); err != nil {
		return nil, err
	}
	return p.ParseBytes(b)
}

// CheckEscapes reports the first escape inside a JSON string of b that RFC 8259 does not
// allow, or that names one half of a UTF-16 surrogate pair without the other. fastjson
// decodes such escapes best effort — it keeps an unknown escape as text and lets a high
// surrogate swallow whatever \u escape follows it — so the stored text would differ from
// what the client sent; the Rust Engram server (serde_json) refuses them as well. Only
// string contents are examined; everything else is left to the parser.
func CheckEscapes(b []byte) error {
	for i := 0; i < len(b); {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return nil
		}
		i += q + 1
		for { // inside a string
			j := bytes.IndexAny(b[i:], "\"\\")
			if j < 0 {
				return nil // unterminated: the parser says so
			}
			i += j
			if b[i] == '"' {
				i++
				break
			}
			n, err := checkEscape(b, i)
			if err != nil {
				return err
			}
			i += n
		}
	}
	return nil
}

// checkEscape checks the escape starting with the backslash at b[i] and returns its length.
func checkEscape(b []byte, i int) (int, error) {
	if i+1 >= len(b) {
		return 1, nil // the string never ends: the parser says so
	}
	switch c := b[i+1]; c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
		r, ok := hex4(b[i+2:])
		if !ok {
			return 0, fmt.Errorf("invalid escape %q at offset %d: \\u takes four hex digits", b[i:min(len(b), i+6)], i)
		}
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return 0, fmt.Errorf("unpaired UTF-16 surrogate \\u%04X at offset %d", r, i)
		case r >= 0xD800 && r <= 0xDBFF:
			if k := i + 6; k+1 < len(b) && b[k] == '\\' && b[k+1] == 'u' {
				if lo, ok := hex4(b[k+2:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					return 12, nil
				}
			}
			return 0, fmt.Errorf("unpaired UTF-16 surrogate \\u%04X at offset %d", r, i)
		}
		return 6, nil
	default:
		return 0, fmt.Errorf("invalid escape %q at offset %d", b[i:i+2], i)
	}
}

// hex4 decodes four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
