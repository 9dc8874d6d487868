package httpapi

import "github.com/engram-go/engram/engine"

// The monitoring streams are views of a space's event stream (handleStream), each with
// the event types it is about (docs/api.md).
var (
	// consolidationEvents: each semantic memory formed, with the episodes it cites.
	consolidationEvents = []engine.EventType{engine.EventConsolidation}
	// allEvents: everything the space publishes.
	allEvents = []engine.EventType{engine.EventStorage, engine.EventRecall, engine.EventActivation, engine.EventForget,
		engine.EventConsolidation, engine.EventFormation, engine.EventRetrieval}
	// activationEvents: every memory a recall activated, directly (retrieval, with its
	// score) or by spreading (activation, with its level and path).
	activationEvents = []engine.EventType{engine.EventRetrieval, engine.EventActivation}
	// causalityEvents: the spreading chains alone, each activation with the path of
	// memories whose activation caused it.
	causalityEvents = []engine.EventType{engine.EventActivation}
)
