package query

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/engram-go/engram/engine"
)

// Ranges of the numeric clauses.
const (
	MaxLimit   = engine.MaxMaxResults
	MaxHops    = engine.MaxSpreadHops
	MaxHorizon = 100 * 365 * 24 * time.Hour
)

var keywords = map[string]bool{
	"RECALL": true, "SPREAD": true, "PREDICT": true, "IMAGINE": true, "CONSOLIDATE": true,
	"FROM": true, "MAX_HOPS": true, "DECAY": true, "THRESHOLD": true, "WHERE": true, "AND": true,
	"CONFIDENCE": true, "LIMIT": true, "GIVEN": true, "HORIZON": true, "BASED": true, "ON": true,
	"NOVELTY": true, "INTO": true, "CONTAINS": true, "BEFORE": true, "AFTER": true,
}

// isKeyword reports whether a word is reserved (keywords are case-insensitive).
func isKeyword(w string) bool { return keywords[strings.ToUpper(w)] }

// parser is a recursive-descent parser over the token slice, one token of lookahead.
type parser struct {
	toks []token
	i    int
}

// Parse parses and validates one query. Errors are *SyntaxError.
func Parse(src string) (Query, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	var q Query
	t := p.peek()
	switch {
	case p.isKw("RECALL"):
		q, err = p.recall()
	case p.isKw("SPREAD"):
		q, err = p.spread()
	case p.isKw("PREDICT"):
		q, err = p.predict()
	case p.isKw("IMAGINE"):
		q, err = p.imagine()
	case p.isKw("CONSOLIDATE"):
		q, err = p.consolidate()
	default:
		return nil, p.fail(t, "expected RECALL, SPREAD, PREDICT, IMAGINE or CONSOLIDATE at the start of the query, got %s", t.describe())
	}
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.fail(t, "unexpected %s after a complete %s query", t.describe(), q.Verb())
	}
	return q, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isKw(kw string) bool {
	t := p.peek()
	return t.kind == tWord && strings.EqualFold(t.text, kw)
}

func (p *parser) fail(t token, format string, args ...any) error {
	return &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf(format, args...)}
}

// keyword consumes kw or fails naming what came before it.
func (p *parser) keyword(kw, after string) error {
	if !p.isKw(kw) {
		t := p.peek()
		return p.fail(t, "expected %s after %s, got %s", kw, after, t.describe())
	}
	p.next()
	return nil
}

// number reads one number after the keyword (or token) named by after.
func (p *parser) number(after string) (float64, token, error) {
	t := p.next()
	if t.kind != tNumber {
		return 0, t, p.fail(t, "expected a number after %s, got %s", after, t.describe())
	}
	return t.num, t, nil
}

// unit reads a number in [0, 1].
func (p *parser) unit(after string) (float32, error) {
	v, t, err := p.number(after)
	if err != nil {
		return 0, err
	}
	if v < 0 || v > 1 {
		return 0, p.fail(t, "%s must be between 0 and 1, got %s", after, t.text)
	}
	return float32(v), nil
}

// integer reads a whole number in [lo, hi].
func (p *parser) integer(after string, lo, hi int) (int, error) {
	v, t, err := p.number(after)
	if err != nil {
		return 0, err
	}
	if v != math.Trunc(v) || v < float64(lo) || v > float64(hi) {
		return 0, p.fail(t, "%s must be a whole number from %d to %d, got %s", after, lo, hi, t.text)
	}
	return int(v), nil
}

// id reads a memory id after the keyword named by after.
func (p *parser) id(after string) (string, error) {
	t := p.next()
	if t.kind != tWord || isKeyword(t.text) {
		return "", p.fail(t, "expected a memory id after %s, got %s", after, t.describe())
	}
	if err := engine.ValidateID(t.text); err != nil {
		return "", p.fail(t, "%s is not a valid memory id: %s", t.text, strings.TrimPrefix(err.Error(), engine.ErrInvalidInput.Error()+": "))
	}
	return t.text, nil
}

// ids reads one or more comma-separated memory ids.
func (p *parser) ids(after string) ([]string, error) {
	var out []string
	for {
		id, err := p.id(after)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
		if p.peek().kind != tComma {
			return out, nil
		}
		p.next()
		after = "','"
	}
}

// pattern reads <id | "text" | [vector]>.
func (p *parser) pattern(after string) (Pattern, error) {
	t := p.peek()
	switch t.kind {
	case tString:
		p.next()
		if strings.TrimSpace(t.text) == "" {
			return Pattern{}, p.fail(t, "the text after %s is empty", after)
		}
		return Pattern{Text: t.text}, nil
	case tLBracket:
		v, err := p.vector()
		return Pattern{Vector: v}, err
	case tWord:
		if !isKeyword(t.text) {
			id, err := p.id(after)
			return Pattern{ID: id}, err
		}
	}
	return Pattern{}, p.fail(t, `expected a memory id, "text" or [vector] after %s, got %s`, after, t.describe())
}

// vector reads [x, y, …] with at least one number.
func (p *parser) vector() ([]float32, error) {
	open := p.next()
	var v []float32
	after := "'['"
	for {
		x, _, err := p.number(after)
		if err != nil {
			if len(v) == 0 && p.toks[p.i-1].kind == tRBracket {
				return nil, p.fail(open, "the vector is empty")
			}
			return nil, err
		}
		v = append(v, float32(x))
		t := p.next()
		switch t.kind {
		case tComma:
			after = "','"
		case tRBracket:
			return v, nil
		default:
			return nil, p.fail(t, "expected ',' or ']' in the vector, got %s", t.describe())
		}
	}
}

// bound reads an operator and a number in [0, 1]: CONFIDENCE > 0.7.
func (p *parser) bound(after string) (Bound, error) {
	t := p.next()
	if t.kind != tOp || t.text == "=" || t.text == "!=" {
		return Bound{}, p.fail(t, "expected >, <, >= or <= after %s, got %s", after, t.describe())
	}
	v, err := p.unit(after + " " + t.text)
	return Bound{Op: t.text, Value: v}, err
}

// once fails when a clause was already given.
func (p *parser) once(seen map[string]bool, kw string) error {
	t := p.peek()
	if seen[kw] {
		return p.fail(t, "%s is given twice", kw)
	}
	seen[kw] = true
	p.next()
	return nil
}

func (p *parser) recall() (*Recall, error) {
	p.next()
	pat, err := p.pattern("RECALL")
	if err != nil {
		return nil, err
	}
	q := &Recall{Pattern: pat}
	seen := map[string]bool{}
	for {
		t := p.peek()
		switch {
		case p.isKw("THRESHOLD"):
			if pat.ID != "" {
				return nil, p.fail(t, "THRESHOLD applies to a text or vector cue, not to the memory id %s", pat.ID)
			}
			if err := p.once(seen, "THRESHOLD"); err != nil {
				return nil, err
			}
			if q.Threshold, err = p.unit("THRESHOLD"); err != nil {
				return nil, err
			}
			q.HasThreshold = true
		case p.isKw("WHERE"):
			if err := p.once(seen, "WHERE"); err != nil {
				return nil, err
			}
			if q.Where, err = p.constraints(); err != nil {
				return nil, err
			}
		case p.isKw("CONFIDENCE"):
			if err := p.once(seen, "CONFIDENCE"); err != nil {
				return nil, err
			}
			b, err := p.bound("CONFIDENCE")
			if err != nil {
				return nil, err
			}
			q.Confidence = &b
		case p.isKw("LIMIT"):
			if pat.ID != "" {
				return nil, p.fail(t, "LIMIT applies to a text or vector cue; RECALL of a memory id answers one memory")
			}
			if err := p.once(seen, "LIMIT"); err != nil {
				return nil, err
			}
			if q.Limit, err = p.integer("LIMIT", 1, MaxLimit); err != nil {
				return nil, err
			}
		case t.kind == tEOF:
			return q, nil
		default:
			return nil, p.fail(t, "expected THRESHOLD, WHERE, CONFIDENCE, LIMIT or the end of the query, got %s", t.describe())
		}
	}
}

// constraints reads c [AND c]… after WHERE.
func (p *parser) constraints() ([]Constraint, error) {
	var out []Constraint
	after := "WHERE"
	for {
		c, err := p.constraint(after)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		if !p.isKw("AND") {
			return out, nil
		}
		p.next()
		after = "AND"
	}
}

func (p *parser) constraint(after string) (Constraint, error) {
	t := p.next()
	c := Constraint{Pos: t.pos, Field: strings.ToLower(t.text)}
	if t.kind != tWord {
		c.Field = ""
	}
	switch c.Field {
	case FieldContent:
		if err := p.keyword("CONTAINS", "content"); err != nil {
			return c, err
		}
		s, err := p.str("CONTAINS")
		c.Text = s
		return c, err
	case FieldCreated:
		switch {
		case p.isKw("BEFORE"):
		case p.isKw("AFTER"):
			c.After = true
		default:
			u := p.peek()
			return c, p.fail(u, "expected BEFORE or AFTER after created, got %s", u.describe())
		}
		kw := strings.ToUpper(p.next().text)
		u := p.peek()
		s, err := p.str(kw)
		if err != nil {
			return c, err
		}
		if c.Time, err = parseTime(s); err != nil {
			return c, p.fail(u, "expected an RFC 3339 time or a YYYY-MM-DD date after %s, got %q", kw, s)
		}
		return c, nil
	case FieldConfidence:
		b, err := p.bound("confidence")
		c.Bound = b
		return c, err
	case FieldTag:
		op := p.next()
		if op.kind != tOp || (op.text != "=" && op.text != "!=") {
			return c, p.fail(op, "expected = or != after tag, got %s", op.describe())
		}
		c.Not = op.text == "!="
		s, err := p.str("tag " + op.text)
		if err == nil && s == "" {
			err = p.fail(p.toks[p.i-1], "the tag is empty")
		}
		c.Text = s
		return c, err
	case FieldType:
		if op := p.next(); op.kind != tOp || op.text != "=" {
			return c, p.fail(op, "expected = after type, got %s", op.describe())
		}
		v := p.next()
		if v.kind != tWord && v.kind != tString {
			return c, p.fail(v, "expected episodic, semantic or procedural after type =, got %s", v.describe())
		}
		mt, err := engine.ParseMemoryType(strings.ToLower(v.text))
		if err != nil || v.text == "" {
			return c, p.fail(v, "expected episodic, semantic or procedural after type =, got %s", v.describe())
		}
		c.Text = mt.String()
		return c, nil
	}
	return c, p.fail(t, "expected content, created, confidence, tag or type after %s, got %s", after, t.describe())
}

// str reads a string literal.
func (p *parser) str(after string) (string, error) {
	t := p.next()
	if t.kind != tString {
		return "", p.fail(t, "expected a \"string\" after %s, got %s", after, t.describe())
	}
	return t.text, nil
}

// parseTime accepts RFC 3339 or a date (midnight UTC).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	return time.Parse(time.DateOnly, s)
}

func (p *parser) spread() (*Spread, error) {
	p.next()
	if err := p.keyword("FROM", "SPREAD"); err != nil {
		return nil, err
	}
	from, err := p.id("FROM")
	if err != nil {
		return nil, err
	}
	q := &Spread{From: from}
	seen := map[string]bool{}
	for {
		t := p.peek()
		switch {
		case p.isKw("MAX_HOPS"):
			if err := p.once(seen, "MAX_HOPS"); err != nil {
				return nil, err
			}
			if q.MaxHops, err = p.integer("MAX_HOPS", 1, MaxHops); err != nil {
				return nil, err
			}
		case p.isKw("DECAY"):
			if err := p.once(seen, "DECAY"); err != nil {
				return nil, err
			}
			if q.Decay, err = p.unit("DECAY"); err != nil {
				return nil, err
			}
			if q.Decay == 0 {
				return nil, p.fail(p.toks[p.i-1], "DECAY must be above 0 (activation would not move)")
			}
		case p.isKw("THRESHOLD"):
			if err := p.once(seen, "THRESHOLD"); err != nil {
				return nil, err
			}
			if q.Threshold, err = p.unit("THRESHOLD"); err != nil {
				return nil, err
			}
			if q.Threshold == 0 {
				return nil, p.fail(p.toks[p.i-1], "THRESHOLD of SPREAD must be above 0 (it bounds the work)")
			}
		case t.kind == tEOF:
			return q, nil
		default:
			return nil, p.fail(t, "expected MAX_HOPS, DECAY, THRESHOLD or the end of the query, got %s", t.describe())
		}
	}
}

func (p *parser) predict() (*Predict, error) {
	p.next()
	pat, err := p.pattern("PREDICT")
	if err != nil {
		return nil, err
	}
	q := &Predict{Pattern: pat}
	if err := p.keyword("GIVEN", "the PREDICT pattern"); err != nil {
		return nil, err
	}
	if q.Given, err = p.ids("GIVEN"); err != nil {
		return nil, err
	}
	if p.isKw("HORIZON") {
		p.next()
		s, err := p.integer("HORIZON", 1, int(MaxHorizon/time.Second))
		if err != nil {
			return nil, err
		}
		q.Horizon = time.Duration(s) * time.Second
	}
	return q, nil
}

func (p *parser) imagine() (*Imagine, error) {
	p.next()
	pat, err := p.pattern("IMAGINE")
	if err != nil {
		return nil, err
	}
	q := &Imagine{Pattern: pat}
	if p.isKw("BASED") {
		p.next()
		if err := p.keyword("ON", "BASED"); err != nil {
			return nil, err
		}
		if q.BasedOn, err = p.ids("BASED ON"); err != nil {
			return nil, err
		}
	}
	if p.isKw("NOVELTY") {
		p.next()
		if q.Novelty, err = p.unit("NOVELTY"); err != nil {
			return nil, err
		}
	}
	if p.isKw("CONFIDENCE") {
		p.next()
		b, err := p.bound("CONFIDENCE")
		if err != nil {
			return nil, err
		}
		q.Confidence = &b
	}
	return q, nil
}

func (p *parser) consolidate() (*Consolidate, error) {
	p.next()
	q := &Consolidate{}
	var err error
	if p.isKw("WHERE") {
		p.next()
		if q.Where, err = p.constraints(); err != nil {
			return nil, err
		}
	} else {
		pat, err := p.pattern("CONSOLIDATE")
		if err != nil {
			return nil, err
		}
		q.Pattern = &pat
	}
	if err := p.keyword("INTO", "the episodes to consolidate"); err != nil {
		return nil, err
	}
	if q.Into, err = p.id("INTO"); err != nil {
		return nil, err
	}
	return q, nil
}
