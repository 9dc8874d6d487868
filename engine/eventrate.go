package engine

import "time"

// rateWindow is the number of seconds an event rate is averaged over.
const rateWindow = 60

// eventRates counts a space's published events by type in one-second buckets over the
// last rateWindow seconds: a bounded cost per type however many events flow.
type eventRates map[EventType]*[rateWindow]rateBucket

type rateBucket struct {
	sec int64 // unix second the count belongs to
	n   uint64
}

// note counts one event at t. Caller holds the hub's lock.
func (r eventRates) note(t EventType, at time.Time) {
	w := r[t]
	if w == nil {
		w = new([rateWindow]rateBucket)
		r[t] = w
	}
	sec := at.Unix()
	b := &w[uint64(sec)%rateWindow]
	if b.sec != sec {
		*b = rateBucket{sec: sec}
	}
	b.n++
}

// perSecond is the mean rate of events of type t over the rateWindow seconds before now.
// Caller holds the hub's lock.
func (r eventRates) perSecond(t EventType, now time.Time) float64 {
	w := r[t]
	if w == nil {
		return 0
	}
	sec := now.Unix()
	var n uint64
	for _, b := range w {
		if age := sec - b.sec; age >= 0 && age < rateWindow {
			n += b.n
		}
	}
	return float64(n) / rateWindow
}

// rate is the space's rate of events of type t per second over the last minute.
func (h *eventHub) rate(t EventType, now time.Time) float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rates.perSecond(t, now)
}
