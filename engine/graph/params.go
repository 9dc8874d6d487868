package graph

// Params bound a Spread. Zero fields take their defaults (see DefaultParams), so
// Params{} behaves like DefaultParams().
type Params struct {
	MaxHops   int     // rounds of propagation from the seeds, default 3
	Decay     float32 // multiplier applied per hop, in (0, 1], default 0.5
	Threshold float32 // activation below this is neither propagated nor reported, default 0.05
	Budget    int     // maximum node visits (expansions of a node's edges), default 10000
	MaxFanout int     // strongest edges followed per node, default 32
	// RaiseSeeds lets an association raise a seed above its own activation, as it raises
	// any other node: the seed then reports the stronger path that reached it. Off, a seed
	// keeps its seed activation and path whatever reaches it. Recall turns it on, so a
	// direct match whose association is the stronger evidence is scored by it
	// (docs/recall.md).
	RaiseSeeds bool
}

// Default parameter values.
const (
	DefaultMaxHops   = 3
	DefaultDecay     = 0.5
	DefaultThreshold = 0.05
	DefaultBudget    = 10000
	DefaultMaxFanout = 32
)

// DefaultParams returns the parameters recall uses unless told otherwise.
func DefaultParams() Params {
	return Params{
		MaxHops:   DefaultMaxHops,
		Decay:     DefaultDecay,
		Threshold: DefaultThreshold,
		Budget:    DefaultBudget,
		MaxFanout: DefaultMaxFanout,
	}
}

// normalized fills zero (and negative or NaN) fields with their defaults and caps Decay
// at 1, so activation can only shrink along a path.
func (p Params) normalized() Params {
	if p.MaxHops <= 0 {
		p.MaxHops = DefaultMaxHops
	}
	if !(p.Decay > 0) {
		p.Decay = DefaultDecay
	}
	if p.Decay > 1 {
		p.Decay = 1
	}
	if !(p.Threshold > 0) {
		p.Threshold = DefaultThreshold
	}
	if p.Budget <= 0 {
		p.Budget = DefaultBudget
	}
	if p.MaxFanout <= 0 {
		p.MaxFanout = DefaultMaxFanout
	}
	return p
}
