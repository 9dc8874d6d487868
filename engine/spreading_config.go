package engine

import "github.com/engram-go/engram/engine/graph"

// SpreadingConfig are the spreading-activation parameters the engine uses, read from the
// code paths that use them (docs/spreading-activation.md). They are the same for every
// space.
type SpreadingConfig struct {
	Hybrid        graph.Params // recall in hybrid mode (the default)
	Spreading     graph.Params // recall in spreading mode
	Query         graph.Params // SPREAD FROM and Space.Spread when no clause overrides
	MaxSpreadHops int          // the most hops a SPREAD may ask for
}

// Spreading returns the engine's spreading parameters.
func Spreading() SpreadingConfig {
	q, _ := SpreadParams{}.graphParams()
	return SpreadingConfig{Hybrid: recallSpreadParams(ModeHybrid), Spreading: recallSpreadParams(ModeSpreading),
		Query: q, MaxSpreadHops: MaxSpreadHops}
}
