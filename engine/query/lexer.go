package query

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// kind is the class of a token.
type kind uint8

const (
	tEOF    kind = iota
	tWord        // identifier or keyword: letters, digits and . _ : - +
	tNumber      // a word that reads as a finite decimal number
	tString      // "…" with \" \\ \n \t escapes; text holds the unescaped value
	tLBracket
	tRBracket
	tComma
	tOp // > < >= <= = !=
)

// token is one lexeme with the position of its first rune.
type token struct {
	kind kind
	text string  // the word, the unescaped string, the operator
	num  float64 // tNumber only
	pos  Pos
}

// describe names a token in an error message.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "the end of the query"
	case tString:
		return "a string"
	case tNumber:
		return "the number " + t.text
	case tWord:
		if isKeyword(t.text) {
			return "the keyword " + strings.ToUpper(t.text)
		}
		return "'" + t.text + "'"
	}
	return "'" + t.text + "'"
}

// maxTokens bounds the work one query can cause; a 768-d vector needs 1,537 tokens.
const maxTokens = 1 << 16

// lex splits src into tokens, ending with one tEOF.
func lex(src string) ([]token, error) {
	var (
		toks      []token
		line, col = 1, 1
		i         int
	)
	advance := func(r rune, size int) {
		i += size
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	for {
		if len(toks) >= maxTokens {
			return nil, &SyntaxError{Pos: Pos{line, col}, Msg: fmt.Sprintf("the query has more than %d tokens", maxTokens)}
		}
		for i < len(src) {
			r, size := utf8.DecodeRuneInString(src[i:])
			if !unicode.IsSpace(r) {
				break
			}
			advance(r, size)
		}
		pos := Pos{line, col}
		if i >= len(src) {
			return append(toks, token{kind: tEOF, pos: pos}), nil
		}
		r, size := utf8.DecodeRuneInString(src[i:])
		switch {
		case r == '[':
			toks = append(toks, token{kind: tLBracket, text: "[", pos: pos})
			advance(r, size)
		case r == ']':
			toks = append(toks, token{kind: tRBracket, text: "]", pos: pos})
			advance(r, size)
		case r == ',':
			toks = append(toks, token{kind: tComma, text: ",", pos: pos})
			advance(r, size)
		case r == '>' || r == '<' || r == '=' || r == '!':
			op := string(r)
			advance(r, size)
			if i < len(src) && src[i] == '=' && r != '=' {
				op += "="
				advance('=', 1)
			}
			if op == "!" {
				return nil, &SyntaxError{Pos: pos, Msg: "expected '!=', got a lone '!'"}
			}
			toks = append(toks, token{kind: tOp, text: op, pos: pos})
		case r == '"':
			advance(r, size)
			s, err := lexString(src, &i, &line, &col, pos)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tString, text: s, pos: pos})
		case isWordRune(r):
			start := i
			for i < len(src) {
				r, size := utf8.DecodeRuneInString(src[i:])
				if !isWordRune(r) {
					break
				}
				advance(r, size)
			}
			w := src[start:i]
			t := token{kind: tWord, text: w, pos: pos}
			if looksNumeric(w) {
				// A word like 12ab is an id; one like 1e999 is a number out of range.
				f, err := strconv.ParseFloat(w, 64)
				switch {
				case err == nil && f >= -maxFloat && f <= maxFloat:
					t.kind, t.num = tNumber, f
				case err == nil || errors.Is(err, strconv.ErrRange):
					return nil, &SyntaxError{Pos: pos, Msg: fmt.Sprintf("%s is not a finite 32-bit number", w)}
				}
			}
			toks = append(toks, t)
		default:
			return nil, &SyntaxError{Pos: pos, Msg: fmt.Sprintf("unexpected character %q", r)}
		}
	}
}

// maxFloat is the largest float32; larger numbers would become infinite in a vector.
const maxFloat = 3.4028234663852886e38

// lexString reads a string body after its opening quote at open.
func lexString(src string, i, line, col *int, open Pos) (string, error) {
	var b strings.Builder
	for *i < len(src) {
		r, size := utf8.DecodeRuneInString(src[*i:])
		if r == utf8.RuneError && size == 1 {
			return "", &SyntaxError{Pos: Pos{*line, *col}, Msg: "the string is not valid UTF-8"}
		}
		*i += size
		*col++
		switch r {
		case '"':
			return b.String(), nil
		case '\n':
			*line, *col = *line+1, 1
			b.WriteRune(r)
		case '\\':
			if *i >= len(src) {
				return "", &SyntaxError{Pos: open, Msg: "unterminated string"}
			}
			e := src[*i]
			*i++
			*col++
			switch e {
			case '"', '\\':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				return "", &SyntaxError{Pos: Pos{*line, *col - 2}, Msg: fmt.Sprintf("unknown escape \\%c in a string (use \\\" \\\\ \\n or \\t)", e)}
			}
		default:
			b.WriteRune(r)
		}
	}
	return "", &SyntaxError{Pos: open, Msg: "unterminated string"}
}

func isWordRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '_' || r == '.' || r == ':' || r == '-' || r == '+'
}

// looksNumeric reports whether a word starts like a number: a digit, or a sign or dot
// followed by a digit.
func looksNumeric(w string) bool {
	if w == "" {
		return false
	}
	c := w[0]
	if c >= '0' && c <= '9' {
		return true
	}
	if (c == '-' || c == '+' || c == '.') && len(w) > 1 {
		d := w[1]
		return d >= '0' && d <= '9' || (d == '.' && c != '.' && len(w) > 2 && w[2] >= '0' && w[2] <= '9')
	}
	return false
}
