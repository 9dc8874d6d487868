package query

import "time"

// Verbs of the language.
const (
	VerbRecall      = "RECALL"
	VerbSpread      = "SPREAD"
	VerbPredict     = "PREDICT"
	VerbImagine     = "IMAGINE"
	VerbConsolidate = "CONSOLIDATE"
)

// Query is a parsed, validated query: one of *Recall, *Spread, *Predict, *Imagine,
// *Consolidate.
type Query interface {
	Verb() string
}

// Pattern is what RECALL (and PREDICT, IMAGINE) look for: exactly one of a memory id, a
// text or a vector.
type Pattern struct {
	ID     string
	Text   string
	Vector []float32
}

// Bound is a comparison with a number: Op is one of > < >= <=.
type Bound struct {
	Op    string
	Value float32
}

// Holds reports whether v satisfies the bound.
func (b Bound) Holds(v float32) bool {
	switch b.Op {
	case ">":
		return v > b.Value
	case ">=":
		return v >= b.Value
	case "<":
		return v < b.Value
	}
	return v <= b.Value
}

// Field names of WHERE constraints.
const (
	FieldContent    = "content"    // content CONTAINS "text"
	FieldCreated    = "created"    // created BEFORE|AFTER "RFC 3339 time or date"
	FieldConfidence = "confidence" // confidence > x (any of > < >= <=)
	FieldTag        = "tag"        // tag = "t" | tag != "t"
	FieldType       = "type"       // type = episodic|semantic|procedural
)

// Constraint is one WHERE condition. Which fields are set depends on Field.
type Constraint struct {
	Field string
	Pos   Pos
	Text  string    // content: the text; tag: the tag; type: the memory type
	Not   bool      // tag != "t"
	Time  time.Time // created
	After bool      // created AFTER (else BEFORE)
	Bound Bound     // confidence
}

// Recall is RECALL <pattern> [THRESHOLD t] [WHERE …] [CONFIDENCE op x] [LIMIT n].
type Recall struct {
	Pattern      Pattern
	Threshold    float32 // minimum score; valid when HasThreshold
	HasThreshold bool
	Where        []Constraint
	Confidence   *Bound
	Limit        int // 0 = the default
}

// Spread is SPREAD FROM <id> [MAX_HOPS n] [DECAY d] [THRESHOLD t]; zero = the default.
type Spread struct {
	From      string
	MaxHops   int
	Decay     float32
	Threshold float32
}

// Predict is PREDICT <pattern> GIVEN <id>[, <id>…] [HORIZON seconds].
type Predict struct {
	Pattern Pattern
	Given   []string
	Horizon time.Duration
}

// Imagine is IMAGINE <pattern> [BASED ON <id>[, <id>…]] [NOVELTY x] [CONFIDENCE op x].
type Imagine struct {
	Pattern    Pattern
	BasedOn    []string
	Novelty    float32
	Confidence *Bound
}

// Consolidate is CONSOLIDATE (<pattern> | WHERE …) INTO <id>.
type Consolidate struct {
	Pattern *Pattern
	Where   []Constraint
	Into    string
}

func (*Recall) Verb() string      { return VerbRecall }
func (*Spread) Verb() string      { return VerbSpread }
func (*Predict) Verb() string     { return VerbPredict }
func (*Imagine) Verb() string     { return VerbImagine }
func (*Consolidate) Verb() string { return VerbConsolidate }
