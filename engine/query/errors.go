package query

import (
	"errors"
	"fmt"
)

// Sentinel errors.
var (
	// ErrSyntax is matched (errors.Is) by every *SyntaxError.
	ErrSyntax = errors.New("query: syntax error")
	// ErrNotImplemented is returned by Execute for a verb the server parses but cannot
	// answer from stored memories; the message names the verb.
	ErrNotImplemented = errors.New("query: verb not implemented")
)

// Pos is a position in the query text: 1-based line and column, counted in runes.
type Pos struct {
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// SyntaxError is a query that does not follow the grammar, or a value out of range.
type SyntaxError struct {
	Pos Pos
	Msg string // what was expected, e.g. "expected a number after THRESHOLD"
}

func (e *SyntaxError) Error() string { return e.Msg + " at " + e.Pos.String() }

// Is makes errors.Is(err, ErrSyntax) true for every syntax error.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }
