package config

import "strings"

// locateKey returns the 1-based line where key is defined in a TOML text: the table
// header or key line whose full dotted path starts with key. It returns 0 when not found.
// The decoder keeps no position for keys it did not decode, so unknown keys are found
// again here; the scan skips the insides of strings, multi-line strings and arrays so
// that text inside a value is never taken for a key.
func locateKey(text string, key []string) int {
	var (
		table []string
		sc    valueScanner
	)
	for i, line := range strings.Split(text, "\n") {
		if sc.open() {
			sc.scan(line)
			continue
		}
		s := strings.TrimSpace(line)
		if s == "" || s[0] == '#' {
			continue
		}
		var full []string
		if s[0] == '[' {
			inner := strings.TrimPrefix(s, "[")
			inner = strings.TrimPrefix(inner, "[")
			end := closingBracket(inner)
			if end < 0 {
				continue
			}
			table = splitDotted(inner[:end])
			full = table
		} else {
			eq := keyEnd(s)
			if eq < 0 {
				continue
			}
			full = append(append([]string(nil), table...), splitDotted(s[:eq])...)
			sc.scan(s[eq+1:])
		}
		if hasPrefix(full, key) {
			return i + 1
		}
	}
	return 0
}

func hasPrefix(full, key []string) bool {
	if len(key) == 0 || len(full) < len(key) {
		return false
	}
	for i := range key {
		if full[i] != key[i] {
			return false
		}
	}
	return true
}

// keyEnd is the index of the '=' ending the key part of a key line, skipping quoted key
// parts; -1 if the line has none.
func keyEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\'':
			j := strings.IndexByte(s[i+1:], s[i])
			if j < 0 {
				return -1
			}
			i += j + 1
		case '=':
			return i
		case '#':
			return -1
		}
	}
	return -1
}

// closingBracket finds the ']' closing a table header, skipping quoted parts.
func closingBracket(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\'':
			j := strings.IndexByte(s[i+1:], s[i])
			if j < 0 {
				return -1
			}
			i += j + 1
		case ']':
			return i
		}
	}
	return -1
}

// splitDotted splits a dotted key ("a. \"b.c\" .d") into its parts, unquoting them.
func splitDotted(s string) []string {
	var (
		parts []string
		cur   strings.Builder
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				cur.WriteString(s[i+1:])
				i = len(s)
				continue
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		case ' ', '\t':
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, strings.TrimSpace(cur.String()))
}

// valueScanner follows a value across lines: open arrays and inline tables, and
// multi-line strings.
type valueScanner struct {
	depth int
	ml    string // closing delimiter of the open multi-line string, or ""
}

func (v *valueScanner) open() bool { return v.depth > 0 || v.ml != "" }

func (v *valueScanner) scan(s string) {
	for i := 0; i < len(s); i++ {
		if v.ml != "" {
			j := strings.Index(s[i:], v.ml)
			if j < 0 {
				return
			}
			i += j + len(v.ml) - 1
			v.ml = ""
			continue
		}
		switch c := s[i]; c {
		case '#':
			return
		case '"', '\'':
			if strings.HasPrefix(s[i:], strings.Repeat(string(c), 3)) {
				v.ml = strings.Repeat(string(c), 3)
				i += 2
				continue
			}
			for j := i + 1; j < len(s); j++ {
				if c == '"' && s[j] == '\\' {
					j++
					continue
				}
				if s[j] == c {
					i = j
					break
				}
				if j == len(s)-1 {
					i = j
				}
			}
		case '[', '{':
			v.depth++
		case ']', '}':
			if v.depth > 0 {
				v.depth--
			}
		}
	}
}
