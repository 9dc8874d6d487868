package vecjson

import (
	"errors"
	"fmt"
)

// ErrTooManyValues is returned by Check when b holds more JSON values than the caller's
// bound: a general parser materialises every value (fastjson spends about 100 bytes on a
// "0," of two), so the count, not the byte length, is what bounds its memory.
var ErrTooManyValues = errors.New("vecjson: too many JSON values")

// SyntaxError is a place where b departs from the JSON grammar of RFC 8259.
type SyntaxError struct {
	Offset int // of the offending byte in b
	msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.Offset) }

func syntaxError(off int, format string, args ...any) error {
	return &SyntaxError{Offset: off, msg: fmt.Sprintf(format, args...)}
}

// MaxDepth is the deepest nesting of arrays and objects Check accepts.
const MaxDepth = maxDepth

// Check reports whether b is exactly one JSON text as RFC 8259 defines it — whitespace,
// literals, numbers (no leading zeros, no bare '.', no '+', no NaN or Infinity), strings
// (no raw control characters, only the escapes the RFC lists, \u surrogates in pairs) —
// nested at most MaxDepth deep, and counts its values (every scalar, array and object).
// More than maxValues, when maxValues > 0, is ErrTooManyValues, returned as soon as the
// count passes the bound. Check allocates nothing on success; it does not judge UTF-8,
// which the fields that hold text check themselves.
func Check(b []byte, maxValues int) (values int, err error) {
	var stack [maxDepth]byte // '{' or '[' of each open container, innermost last
	depth := 0
	i := skipSpace(b, 0)
	for {
		// A value starts at b[i].
		values++
		if maxValues > 0 && values > maxValues {
			return values, fmt.Errorf("%w: more than %d", ErrTooManyValues, maxValues)
		}
		if i >= len(b) {
			return values, syntaxError(i, "unexpected end of JSON input")
		}
		switch c := b[i]; c {
		case '{', '[':
			if depth == maxDepth {
				return values, syntaxError(i, "nesting deeper than %d levels", maxDepth)
			}
			close := c + 2 // '}' is '{'+2, ']' is '['+2
			i = skipSpace(b, i+1)
			if i < len(b) && b[i] == close {
				i++
				break // an empty container is a complete value
			}
			stack[depth] = c
			depth++
			if c == '{' {
				if i, err = checkKey(b, i); err != nil {
					return values, err
				}
			}
			continue // its first element or member value
		case '"':
			if i, err = checkString(b, i); err != nil {
				return values, err
			}
		case 't':
			if i, err = checkLiteral(b, i, "true"); err != nil {
				return values, err
			}
		case 'f':
			if i, err = checkLiteral(b, i, "false"); err != nil {
				return values, err
			}
		case 'n':
			if i, err = checkLiteral(b, i, "null"); err != nil {
				return values, err
			}
		default:
			if i, err = checkNumber(b, i); err != nil {
				return values, err
			}
		}
		// A value ended before b[i]: close containers until the next value starts.
		for {
			i = skipSpace(b, i)
			if depth == 0 {
				if i < len(b) {
					return values, syntaxError(i, "unexpected %s after the JSON value", quoteByte(b[i]))
				}
				return values, nil
			}
			if i >= len(b) {
				return values, syntaxError(i, "unexpected end of JSON input")
			}
			open := stack[depth-1]
			if b[i] == open+2 {
				depth--
				i++
				continue
			}
			if b[i] != ',' {
				if open == '{' {
					return values, syntaxError(i, "unexpected %s after an object member; want ',' or '}'", quoteByte(b[i]))
				}
				return values, syntaxError(i, "unexpected %s after an array element; want ',' or ']'", quoteByte(b[i]))
			}
			i = skipSpace(b, i+1)
			if open == '{' {
				if i, err = checkKey(b, i); err != nil {
					return values, err
				}
			}
			break
		}
	}
}

// checkKey checks an object key and its colon at b[i] and returns the index of the value.
func checkKey(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, syntaxError(i, "unexpected end of JSON input")
	}
	if b[i] != '"' {
		return i, syntaxError(i, "unexpected %s where an object key (a string) belongs", quoteByte(b[i]))
	}
	i, err := checkString(b, i)
	if err != nil {
		return i, err
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		if i >= len(b) {
			return i, syntaxError(i, "unexpected end of JSON input")
		}
		return i, syntaxError(i, "unexpected %s after an object key; want ':'", quoteByte(b[i]))
	}
	return skipSpace(b, i+1), nil
}

// checkLiteral checks that b[i:] starts with lit, a whole word.
func checkLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, syntaxError(i, "invalid literal; JSON knows only true, false and null")
	}
	return i + len(lit), nil
}

// checkNumber checks the number starting at b[i] against the grammar
// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? and returns the index after it.
func checkNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
		if i < len(b) && isDigit(b[i]) {
			return i, syntaxError(start, "invalid number: a leading zero must not be followed by digits")
		}
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		return i, numberStartError(b, start, i)
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return i, syntaxError(start, "invalid number: a decimal point must be followed by digits")
		}
		for ; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, syntaxError(start, "invalid number: an exponent must have digits")
		}
		for ; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	return i, nil
}

// numberStartError explains a value that is neither a number nor anything else JSON has;
// b[start] opens it and b[i] is where a digit was expected.
func numberStartError(b []byte, start, i int) error {
	if i >= len(b) {
		return syntaxError(i, "unexpected end of JSON input")
	}
	switch c := b[i]; {
	case c == '+':
		return syntaxError(i, "invalid number: JSON numbers have no '+' sign")
	case c == '.':
		return syntaxError(i, "invalid number: a number must have a digit before the decimal point (0.5, not .5)")
	case c == 'N' || c == 'I':
		return syntaxError(i, "invalid number: JSON has no NaN or Infinity; send a finite number")
	case i > start:
		return syntaxError(i, "invalid number: '-' must be followed by digits")
	default:
		return syntaxError(i, "unexpected %s where a JSON value belongs", quoteByte(c))
	}
}

// checkString checks the string opening at b[i] and returns the index after it. Control
// characters must be escaped; an escape must be one RFC 8259 lists, and a \u escape of a
// UTF-16 surrogate must be half of a pair (a parser decoding a lone half would store text
// other than what the client sent).
func checkString(b []byte, i int) (int, error) {
	start := i
	i++
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			n, err := checkEscape(b, i)
			if err != nil {
				return i, err
			}
			i += n
		case c < 0x20:
			return i, syntaxError(i, "control character U+%04X in a string; escape it", c)
		default:
			i++
		}
	}
	return i, syntaxError(start, "unterminated string")
}

// checkEscape checks the escape starting with the backslash at b[i] and returns its length.
func checkEscape(b []byte, i int) (int, error) {
	if i+1 >= len(b) {
		return 0, syntaxError(i, "unterminated string")
	}
	switch c := b[i+1]; c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
		r, ok := hex4(b[i+2:])
		if !ok {
			return 0, syntaxError(i, "invalid escape %q: \\u takes four hex digits", b[i:min(len(b), i+6)])
		}
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return 0, syntaxError(i, "unpaired UTF-16 surrogate \\u%04X", r)
		case r >= 0xD800 && r <= 0xDBFF:
			if k := i + 6; k+1 < len(b) && b[k] == '\\' && b[k+1] == 'u' {
				if lo, ok := hex4(b[k+2:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					return 12, nil
				}
			}
			return 0, syntaxError(i, "unpaired UTF-16 surrogate \\u%04X", r)
		}
		return 6, nil
	default:
		return 0, syntaxError(i, "invalid escape %q", b[i:i+2])
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

// quoteByte names a byte for an error message.
func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("character %q", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// TypeName names the JSON type of the value b starts with (after whitespace), as fastjson
// names it, for "must be an object, got …" answers about a body Check accepted.
func TypeName(b []byte) string {
	i := skipSpace(b, 0)
	if i >= len(b) {
		return "nothing"
	}
	switch b[i] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't':
		return "true"
	case 'f':
		return "false"
	case 'n':
		return "null"
	}
	return "number"
}
