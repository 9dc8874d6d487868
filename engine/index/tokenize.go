package index

import (
	"iter"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tokenize returns the lexical terms of text in order: the tokens of AllTokens with the
// stop words dropped. The lexical index stores these terms; the embedder hashes the same
// ones, so a word means the same thing to both.
func Tokenize(text string) []string {
	terms := make([]string, 0, len(text)/6+1)
	for term, stop := range AllTokens(text) {
		if !stop {
			terms = append(terms, term)
		}
	}
	return terms
}

// AllTokens yields every token of text in order together with whether it is a stop word.
//
// A token is a maximal run of Unicode letters, digits and combining marks; everything
// else separates tokens, so "don't" is "don" + "t" and "e-mail" is "e" + "mail". Tokens
// are lower-cased with unicode.ToLower. Stop words (see IsStopWord) are recognised on the
// lower-cased token and yielded unchanged; every other token goes through Stem.
//
// A yielded term is often a substring of text (no allocation when the token is already
// lower case); callers that keep a term for longer than text should strings.Clone it.
func AllTokens(text string) iter.Seq2[string, bool] {
	return func(yield func(string, bool) bool) {
		start := -1   // byte offset of the current token, -1 between tokens
		lower := true // the current token has no upper-case rune
		for i, r := range text {
			if isTokenRune(r) {
				if start < 0 {
					start, lower = i, true
				}
				if lower && unicode.ToLower(r) != r {
					lower = false
				}
				continue
			}
			if start >= 0 {
				if !yieldToken(text[start:i], lower, yield) {
					return
				}
				start = -1
			}
		}
		if start >= 0 {
			yieldToken(text[start:], lower, yield)
		}
	}
}

func yieldToken(tok string, isLower bool, yield func(string, bool) bool) bool {
	if !isLower {
		tok = toLower(tok)
	}
	if IsStopWord(tok) {
		return yield(tok, true)
	}
	return yield(Stem(tok), false)
}

func isTokenRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// toLower maps every rune with unicode.ToLower. strings.ToLower is not used because it
// applies special casing that unicode.ToLower does not, and the two must never disagree
// between the lexical index and the embedder.
func toLower(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// IsStopWord reports whether a lower-cased token is one of the English stop words the
// lexical index ignores: Lucene's classic English set without "no" and "not" (a memory
// that someone does not like coffee must not match a query about liking coffee as well
// as one that says so), plus "s" and "t", the fragments that apostrophes leave behind.
func IsStopWord(tok string) bool {
	switch tok {
	case "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into",
		"is", "it", "of", "on", "or", "s", "such", "t", "that", "the", "their", "then",
		"there", "these", "they", "this", "to", "was", "will", "with":
		return true
	}
	return false
}

// Stem strips English plural endings with Harman's S-stemmer, applied only to tokens of at
// least four bytes so that short words ("gas", "has", "yes") survive. The first rule that
// applies wins:
//
//	-ies → -y  unless -eies, -aies or four letters (memories → memory; pies → pie by -es)
//	-es  → -e  unless -aes, -ees, -oes (horses → horse)
//	-s   → ""  unless -us or -ss       (cells → cell)
//
// Nothing else is stemmed: the stemmer only has to make singular and plural meet, and
// every extra rule would make unrelated words collide.
func Stem(tok string) string {
	n := len(tok)
	if n < 4 || tok[n-1] != 's' {
		return tok
	}
	switch c := tok[n-3]; {
	case n > 4 && strings.HasSuffix(tok, "ies") && tok[n-4] != 'e' && tok[n-4] != 'a':
		return tok[:n-3] + "y"
	case tok[n-2] == 'e' && c != 'a' && c != 'e' && c != 'o':
		return tok[:n-1]
	case tok[n-2] == 'u' || tok[n-2] == 's':
		return tok
	}
	return tok[:n-1]
}
