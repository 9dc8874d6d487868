package engine

import "time"

// RecallMode selects how a cue is answered.
type RecallMode uint8

const (
	// ModeHybrid scores every memory by the stronger of its direct match and the
	// activation spread to it from the strongest direct matches (the seeds).
	ModeHybrid RecallMode = iota
	// ModeSimilarity scores by the direct match alone; edges are never used.
	ModeSimilarity
	// ModeSpreading answers from associations: the seeds by their direct match (or a
	// stronger activation), every other memory only by the activation that reached it,
	// over one more hop than hybrid.
	ModeSpreading
)

// Cue is everything a recall asks for. Zero values mean the documented defaults.
type Cue struct {
	Query        string    // text; embedded by the space's embedder and matched lexically
	Embedding    []float32 // optional vector cue; length must equal the space dimension
	MaxResults   int       // default 10, max 1000
	Threshold    float32   // minimum final score, 0..1 as given (frontends apply the API default 0.3)
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
	Similarity float32  // direct similarity to the cue (0 when not a direct match)
	Activation float32  // the evidence that gave the score, before retention and confidence
	Direct     bool     // the direct match gave the score (else spreading activation did)
	Path       []string // [id] when Direct, else the activation path [seed, ..., id]
}

// Trace records how activation reached a memory.
type Trace struct {
	MemoryID   string
	Activation float32
	Path       []string
}

// RecallResult splits hits the way the API does: vivid (direct, score > 0.7), associated
// (weaker direct hits and memories scored by spreading activation) and reconstructed
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
