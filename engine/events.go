package engine

import (
	"sync"
	"time"
)

// EventType names a stream event. Activities carry storage, recall, activation, forget and
// consolidation; the memories stream carries formation and retrieval.
type EventType string

const (
	EventStorage       EventType = "storage"
	EventRecall        EventType = "recall"
	EventActivation    EventType = "activation"
	EventForget        EventType = "forget"
	EventConsolidation EventType = "consolidation"
	EventFormation     EventType = "formation"
	EventRetrieval     EventType = "retrieval"
)

// Event is one entry of a space's event stream. ID grows by one per event within a space.
type Event struct {
	ID         uint64
	Type       EventType
	Space      string
	MemoryID   string
	Time       time.Time
	Importance float32
	Data       map[string]any // extra, JSON-encodable fields
	// Stored is the memory a storage or formation event describes: its own field rather
	// than entries of Data, so that a remember builds no map for its events. CopyFields
	// writes both into a payload.
	Stored StoredMemory
}

// StoredMemory is what a storage or formation event tells of the memory stored; its Type
// is 0 in every other event.
type StoredMemory struct {
	Preview    string // the content's first 80 bytes, cut at a rune boundary and marked "…"
	Confidence float32
	Type       MemoryType
}

// CopyFields puts the event's extra fields into payload: Data, and for a stored memory
// content_preview, confidence and memory_type.
func (ev *Event) CopyFields(payload map[string]any) {
	for k, v := range ev.Data {
		payload[k] = v
	}
	if ev.Stored.Type != 0 {
		payload["content_preview"] = ev.Stored.Preview
		payload["confidence"] = ev.Stored.Confidence
		payload["memory_type"] = ev.Stored.Type.String()
	}
}

// Subscription delivers a space's events. C is closed when the subscription ends: by Close,
// by the space closing, or because the subscriber fell behind (Lagged reports true then).
type Subscription struct {
	C      <-chan Event
	Missed uint64 // events requested by the resume point that were no longer buffered

	ch     chan Event
	hub    *eventHub
	lagged bool
	once   sync.Once
}

// Lagged reports whether the subscription was cut because it did not keep up.
func (s *Subscription) Lagged() bool {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.lagged
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.hub.remove(s, false)
}

// eventHub is a space's bounded event buffer plus its subscribers. Publishing never blocks:
// a subscriber whose channel is full is cut and marked lagged, so a slow reader can never
// slow a writer.
type eventHub struct {
	mu     sync.Mutex
	nextID uint64
	ring   []Event // the last eventRingSize events: ring[(id-1)%eventRingSize] holds event id; grows on demand
	subs   map[*Subscription]struct{}
	rates  eventRates // recent events by type, for Space.EventRate
	closed bool
}

const (
	eventRingSize = 4096
	subscriberBuf = 1024
)

func newEventHub() *eventHub {
	return &eventHub{nextID: 1, subs: map[*Subscription]struct{}{}, rates: eventRates{}}
}

func (h *eventHub) publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.publishLocked(ev)
}

// publishAs publishes ev once as each of types, in order, under one hold of the lock: a
// remember's storage and formation events, one after the other with nothing between them.
func (h *eventHub) publishAs(ev Event, types ...EventType) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range types {
		ev.Type = t
		h.publishLocked(ev)
	}
}

func (h *eventHub) publishLocked(ev Event) {
	if h.closed {
		return
	}
	ev.ID = h.nextID
	h.nextID++
	h.rates.note(ev.Type, ev.Time)
	// The ring grows with use so that thousands of quiet spaces cost almost nothing.
	if len(h.ring) < eventRingSize {
		h.ring = append(h.ring, ev)
	} else {
		h.ring[(ev.ID-1)%eventRingSize] = ev
	}
	for s := range h.subs {
		select {
		case s.ch <- ev:
		default:
			s.lagged = true
			h.removeLocked(s)
		}
	}
}

// subscribe registers a subscriber. With resume set it first replays the buffered events
// with ids above afterID.
func (h *eventHub) subscribe(afterID uint64, resume bool) *Subscription {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := make(chan Event, subscriberBuf+min(len(h.ring), eventRingSize))
	s := &Subscription{C: ch, ch: ch, hub: h}
	if h.closed {
		close(ch)
		return s
	}
	if resume && afterID < h.nextID-1 {
		oldest := uint64(1)
		if h.nextID-1 > eventRingSize {
			oldest = h.nextID - eventRingSize
		}
		from := afterID + 1
		if from < oldest {
			s.Missed = oldest - from
			from = oldest
		}
		for id := from; id < h.nextID; id++ {
			ch <- h.ring[(id-1)%eventRingSize]
		}
	}
	h.subs[s] = struct{}{}
	return s
}

func (h *eventHub) remove(s *Subscription, lagged bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if lagged {
		s.lagged = true
	}
	h.removeLocked(s)
}

func (h *eventHub) removeLocked(s *Subscription) {
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	s.once.Do(func() { close(s.ch) })
}

// lastID is the id of the newest event, 0 if none.
func (h *eventHub) lastID() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.nextID - 1
}

// endSubscribers ends every current subscription; unlike close, later subscribers and
// events are taken as before.
func (h *eventHub) endSubscribers() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		h.removeLocked(s)
	}
}

func (h *eventHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		h.removeLocked(s)
	}
}
