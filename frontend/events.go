package frontend

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/engram-go/engram/engine"
)

// ActivityEvents are the event types of the activities stream.
func ActivityEvents() []engine.EventType {
	return []engine.EventType{engine.EventStorage, engine.EventRecall, engine.EventActivation,
		engine.EventForget, engine.EventConsolidation}
}

// MemoryEvents are the event types of the memories stream.
func MemoryEvents() []engine.EventType {
	return []engine.EventType{engine.EventFormation, engine.EventRetrieval}
}

// AllEvents are the event types of a stream that carries every event (gRPC Stream, the
// monitoring events stream).
func AllEvents() []engine.EventType { return append(ActivityEvents(), MemoryEvents()...) }

// ConsolidationEvents are those of the consolidation stream: each semantic memory formed,
// with the episodes it cites.
func ConsolidationEvents() []engine.EventType {
	return []engine.EventType{engine.EventConsolidation}
}

// ActivationEvents are those of the activations monitoring stream: every memory a recall
// activated, directly (retrieval, with its score) or by spreading (activation, with its
// level and path).
func ActivationEvents() []engine.EventType {
	return []engine.EventType{engine.EventRetrieval, engine.EventActivation}
}

// CausalityEvents are those of the causality monitoring stream: the spreading chains alone,
// each activation with the path of memories whose activation caused it.
func CausalityEvents() []engine.EventType { return []engine.EventType{engine.EventActivation} }

// EventFilter selects, among the events of a subscriber's space, those it asked for.
type EventFilter struct {
	types         map[engine.EventType]bool
	minImportance float32
}

// NewEventFilter checks a subscriber's filters against the event types its stream carries:
// names (any case; none means all of the stream's types) and the minimum importance (0..1).
// A name the stream does not carry or an importance out of range is a 400 naming the field.
func NewEventFilter(stream []engine.EventType, names []string, minImportance float64) (*EventFilter, error) {
	f := &EventFilter{types: make(map[engine.EventType]bool, len(stream))}
	for _, name := range names {
		t := engine.EventType(strings.ToLower(strings.TrimSpace(name)))
		ok := false
		for _, k := range stream {
			ok = ok || k == t
		}
		if !ok {
			accepted := make([]string, len(stream))
			for i, k := range stream {
				accepted[i] = string(k)
			}
			return nil, Errorf(http.StatusBadRequest, CodeBadRequest,
				fmt.Sprintf("event_types: %q is not an event of this stream (accepted: %s)", name, strings.Join(accepted, ", ")))
		}
		f.types[t] = true
	}
	if len(names) == 0 {
		for _, t := range stream {
			f.types[t] = true
		}
	}
	if !(minImportance >= 0 && minImportance <= 1) {
		return nil, Errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("min_importance must be a number between 0 and 1, got %g", minImportance))
	}
	f.minImportance = float32(minImportance)
	return f, nil
}

// Want reports whether ev goes to the subscriber.
func (f *EventFilter) Want(ev *engine.Event) bool {
	return f.types[ev.Type] && ev.Importance >= f.minImportance
}
