package engine

import "time"

// RecallMode selects how a cue is answered.
type RecallMode uint8

const (
	ModeHybrid     RecallMode = iota // direct similarity plus spreading activation
	ModeSimilarity                   // direct matches only
	ModeSpreading                    // seeds are only used to spread; direct matches still rank
)

// DefaultRecallThreshold is the minimum final score of a recalled memory when the client
// gives none (docs/recall.md). The engine applies Cue.Threshold as given; frontends start
// from this default.
const DefaultRecallThreshold = 0.3

// Cue is everything a recall asks for. Zero values mean the documented defaults.
type Cue struct {
	Query        string    // text; embedded by the space's embedder and matched lexically
	Embedding    []float32 // optional vector cue; length must equal the space dimension
	MaxResults   int       // default 10, max 1000
	Threshold    float32   // minimum final score, 0..1 as given (frontends apply DefaultRecallThreshold)
	Mode         RecallMode
	Trace        bool // fill Traces
	RequiredTags []string
	ExcludedTags []string
	From, To     time.Time // observation-time window; zero = open
	// WithEmbeddings returns each hit's embedding.
	WithEmbeddings bool
	// NoReinforce leaves access statistics untouched (used by read-only listings and tests).
	NoReinforce bool
}

// Hit is one recalled memory with the figures that ranked it.
type Hit struct {
	Memory     Memory
	Score      float32  // final score used for ranking and the threshold
	Similarity float32  // direct similarity to the cue (0 when reached only by spreading)
	Activation float32  // activation level after spreading (similarity for direct hits)
	Direct     bool     // matched the cue directly
	Path       []string // activation path from a seed to this memory (ids), len 1 for direct
}

// Trace records how activation reached a memory.
type Trace struct {
	MemoryID   string
	Activation float32
	Path       []string
}

// RecallResult splits hits the way the API does: vivid (direct, score > 0.7), associated
// (weaker direct hits and memories reached only by spreading) and reconstructed
// (consolidated semantic memories answering the cue).
type RecallResult struct {
	Vivid         []Hit
	Associated    []Hit
	Reconstructed []Hit
	Confidence    float32 // computed from the hits' scores
	Searched      int     // live memories considered
	Hops          int     // spreading hops actually taken
	Took          time.Duration
	Tiers         []string
	Traces        []Trace
}
