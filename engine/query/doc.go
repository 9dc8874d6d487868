// Package query parses and runs the Engram query language, the text form of the
// cognitive operations (docs/query-language.md):
//
//	RECALL <id | "text" | [vector]> [THRESHOLD t] [WHERE c [AND c]...] [CONFIDENCE > x] [LIMIT n]
//	SPREAD FROM <id> [MAX_HOPS n] [DECAY d] [THRESHOLD t]
//	CONSOLIDATE <pattern | WHERE …> INTO <id>
//	PREDICT, IMAGINE (parsed; Execute answers ErrNotImplemented)
//
// The parser is hand-written: one rune-level lexer (lexer.go) feeding a recursive-descent
// parser with one token of lookahead (parser.go). It is protocol-neutral: frontends hand it
// the query text and map its errors.
//
// Invariants:
//
//   - Parse never panics and never allocates more than a constant factor of its input:
//     every error is a *SyntaxError carrying the 1-based line and column (in runes) of the
//     token that could not be accepted, or of the end of the input.
//   - A parsed Query has been validated: numbers are finite and in range, ids are
//     syntactically valid memory ids, every clause appears at most once.
//   - Execute writes only for CONSOLIDATE (the memory it forms, through the WAL); RECALL
//     reinforces access statistics exactly as a recall through the API does.
package query
