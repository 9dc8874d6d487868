// Package vecjson reads JSON from clients before a general parser does: the embedding of
// a memory object in one pass (Cut), the elements of a batch array (Elements), and the
// whole text against RFC 8259 with a count of its values (Check).
//
// A remember body is mostly its embedding: 768 numbers are ~6 KiB of a ~6.3 KiB body.
// A general JSON parser scans each number into a value, then scans it again to convert
// it, so the embedding costs two passes and a value per element. Cut reads the
// top-level "embedding" array straight into float32s and returns the rest of the object
// with the array emptied ("embedding":[]), for a general parser to read the other fields.
//
// Invariants:
//   - Cut only accepts what RFC 8259 accepts: a number outside the JSON grammar, or
//     one whose magnitude float32 cannot hold, makes Cut step aside.
//   - Each element is rounded as strconv.ParseFloat(s, 64) rounds it, then to float32.
//   - Cut steps aside whenever the top-level structure is not certain: a key containing
//     an escape (it could spell "embedding"), a second "embedding" key, mismatched
//     brackets or an unterminated string before the array. The caller then parses the
//     whole body as it would without Cut, so Cut never changes what is accepted, what is
//     refused, or an error message; only how fast an accepted body is read.
//   - Cut steps aside for an array longer than MaxElements.
//   - What follows the array's elements (the closing bracket, other fields, trailing
//     bytes) is left in rest untouched for the caller's parser to judge.
//   - Check accepts exactly RFC 8259 (less unpaired \u surrogates and nesting beyond
//     MaxDepth), allocates nothing, and stops counting as soon as the caller's bound on
//     values is passed, so a body is judged in time linear in its size and constant space.
package vecjson

import (
	"bytes"
	"math"
	"strconv"
)

// Cut returns b without the elements of its top-level "embedding" array, and those
// elements as float32s, in dst when it has room for them (a caller may reuse one buffer
// request after request). ok is false when b has no such non-empty array, or when Cut
// steps aside (see the package comment); rest is then nil.
func Cut(b []byte, dst []float32) (rest []byte, vec []float32, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, nil, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil, nil, false
	}
	start, end := -1, -1 // the array's elements: b[start:end]
	seen := false
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, nil, false
		}
		k := bytes.IndexAny(b[i+1:], "\"\\")
		if k < 0 || b[i+1+k] == '\\' {
			return nil, nil, false
		}
		key := b[i+1 : i+1+k]
		i = skipSpace(b, i+k+2)
		if i >= len(b) || b[i] != ':' {
			return nil, nil, false
		}
		i = skipSpace(b, i+1)
		if string(key) == "embedding" {
			if seen {
				return nil, nil, false
			}
			seen = true
			if i < len(b) && b[i] == '[' {
				var next int
				vec, next, ok = readFloatArray(b, i, dst)
				if !ok {
					return nil, nil, false
				}
				start, end, i = i+1, next-1, next
			} else if i, ok = skipValue(b, i); !ok {
				return nil, nil, false
			}
		} else if i, ok = skipValue(b, i); !ok {
			return nil, nil, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, nil, false
		}
		if b[i] == '}' {
			break
		}
		if b[i] != ',' {
			return nil, nil, false
		}
		i = skipSpace(b, i+1)
	}
	if start < 0 || len(vec) == 0 {
		return nil, nil, false
	}
	rest = make([]byte, 0, len(b)-(end-start))
	rest = append(rest, b[:start]...)
	rest = append(rest, b[end:]...)
	return rest, vec, true
}

// MaxElements is the longest embedding Cut reads: the largest dimension a space may have
// (docs/configuration.md). A longer array is left to the caller's parser, which bounds
// what it materialises; read here it would cost four bytes for each two-byte "0,".
const MaxElements = 1 << 16

// readFloatArray reads the array of JSON numbers opening at b[i] ('[') into dst (or a new
// slice when dst is too short) and returns its elements and the index after its ']'.
func readFloatArray(b []byte, i int, dst []float32) (vec []float32, next int, ok bool) {
	// In an array of numbers the first ']' closes it, so its commas give the length.
	j := bytes.IndexByte(b[i:], ']')
	if j < 0 {
		return nil, 0, false
	}
	n := bytes.Count(b[i:i+j], []byte{','}) + 1
	if n > MaxElements {
		return nil, 0, false
	}
	if cap(dst) >= n {
		vec = dst[:0:n]
	} else {
		vec = make([]float32, 0, n)
	}
	i = skipSpace(b, i+1)
	for {
		f, n, ok := readNumber(b, i)
		if !ok || math.Abs(f) > math.MaxFloat32 || len(vec) == cap(vec) {
			return nil, 0, false
		}
		vec = append(vec, float32(f))
		i = skipSpace(b, n)
		if i >= len(b) {
			return nil, 0, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return vec, i + 1, true
		default:
			return nil, 0, false
		}
	}
}

// exactPow10 are the powers of ten a float64 holds exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// readNumber reads the JSON number (RFC 8259 grammar) starting at b[i] and returns its
// value rounded as strconv.ParseFloat rounds it, and the index after it. A mantissa of at
// most 2^53 scaled by at most 10^22 is exact in float64, so one IEEE multiplication or
// division rounds it correctly (Clinger's fast path); any other number goes to strconv.
func readNumber(b []byte, i int) (f float64, next int, ok bool) {
	start := i
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	var mant uint64
	digits, exp := 0, 0 // significant digits read; power of ten to scale mant by
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for ; i < len(b) && isDigit(b[i]); i++ {
			if digits < 19 {
				mant = mant*10 + uint64(b[i]-'0')
			}
			digits++
		}
	default:
		return 0, 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return 0, 0, false
		}
		for ; i < len(b) && isDigit(b[i]); i++ {
			if digits == 0 && b[i] == '0' {
				exp--
				continue
			}
			if digits < 19 {
				mant = mant*10 + uint64(b[i]-'0')
				exp--
			}
			digits++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return 0, 0, false
		}
		e := 0
		for ; i < len(b) && isDigit(b[i]); i++ {
			if e < 100000 {
				e = e*10 + int(b[i]-'0')
			}
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	switch {
	case mant == 0 && digits == 0:
		f = 0
	case digits <= 19 && mant <= 1<<53 && exp >= -22 && exp <= 22:
		f = float64(mant)
		if exp < 0 {
			f /= exactPow10[-exp]
		} else {
			f *= exactPow10[exp]
		}
	default:
		v, err := strconv.ParseFloat(string(b[start:i]), 64)
		if err != nil {
			return 0, 0, false
		}
		return v, i, true
	}
	if neg {
		f = -f
	}
	return f, i, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// Elements returns the elements of the JSON array b (whitespace around it allowed), each
// a span of b, for a caller to parse one by one — each memory of a batch with Cut — rather
// than the whole array at once. n is the number of elements; past limit they are counted
// but not returned, so that an array of millions costs no more than limit spans. ok is
// false when b is not an array or its structure is not certain; the caller then judges b
// whole. The elements themselves are not judged: the caller's parser does that, and an
// array is valid exactly when its structure is and each element is.
func Elements(b []byte, limit int) (elems [][]byte, n int, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, 0, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return nil, 0, skipSpace(b, i+1) == len(b)
	}
	for {
		end, ok := skipValue(b, i)
		if !ok || end == i {
			return nil, 0, false
		}
		if n++; n <= limit {
			elems = append(elems, b[i:end])
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return nil, 0, false
		}
		if b[i] == ']' {
			break
		}
		if b[i] != ',' {
			return nil, 0, false
		}
		i = skipSpace(b, i+1)
	}
	if skipSpace(b, i+1) != len(b) {
		return nil, 0, false
	}
	if n > limit {
		elems = nil
	}
	return elems, n, true
}

// maxDepth is the deepest nesting skipValue follows: a general parser has a limit of its
// own (fastjson's is 300), and an element parsed alone sits one level higher than inside
// its array, so deeper values are left to the caller's parse of the whole.
const maxDepth = 256

// skipValue returns the index after the JSON value starting at b[i]. It follows strings
// and bracket nesting exactly, so it never mistakes a nested key or the inside of a
// string for a top-level key; scalars are skipped to the next delimiter and left to
// fastjson to judge.
func skipValue(b []byte, i int) (int, bool) {
	// The expected closing brackets, innermost last, in an array (not a slice grown by
	// append, which would cost an allocation per value of a batch of millions).
	var open [maxDepth]byte
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			n, ok := skipString(b, i)
			if !ok {
				return 0, false
			}
			i = n
		case '{', '[':
			if depth == maxDepth {
				return 0, false
			}
			open[depth] = c + 2 // '}' is '{'+2, ']' is '['+2
			depth++
			i++
		case '}', ']':
			if depth == 0 || open[depth-1] != c {
				return 0, false
			}
			depth--
			i++
		default:
			if depth == 0 {
				for i < len(b) && !isDelimiter(b[i]) {
					i++
				}
				return i, true
			}
			// Inside a value only strings and brackets matter: numbers, literals, commas
			// and colons are passed in one tight loop (an embedding is thousands of bytes).
			for i < len(b) && !structural(b[i]) {
				i++
			}
		}
		if depth == 0 {
			return i, true
		}
	}
	return 0, false
}

// skipString returns the index after the string opening at b[i].
func skipString(b []byte, i int) (int, bool) {
	i++
	for {
		k := bytes.IndexAny(b[i:], "\"\\")
		if k < 0 {
			return 0, false
		}
		i += k
		if b[i] == '"' {
			return i + 1, true
		}
		i += 2 // the backslash and the byte it escapes
		if i > len(b) {
			return 0, false
		}
	}
}

// structural reports the bytes skipValue must look at inside a value.
func structural(c byte) bool {
	return c == '"' || c == '[' || c == ']' || c == '{' || c == '}'
}

func isDelimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\n', '\r', '\t', '"', '{', '[', ':':
		return true
	}
	return false
}
