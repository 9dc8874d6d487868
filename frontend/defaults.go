package frontend

import "github.com/engram-go/engram/engine"

// WithDefaults returns the options with every unset field at its default, as frontend.New
// gives them, and the content limit held to the engine's (a larger one could not hold).
// Frontends built directly, as tests do, call it first.
func (o Options) WithDefaults() Options {
	o.setDefaults()
	if o.MaxContentBytes > engine.MaxContentBytes {
		o.MaxContentBytes = engine.MaxContentBytes
	}
	return o
}
