package engine

import "time"

// Census is what a space holds, counted over every live memory of its open state.
type Census struct {
	Memories      int
	ByType        map[MemoryType]int
	Consolidated  int     // episodes cited by a live semantic memory
	AvgConfidence float64 // mean stored confidence
	// AvgRetention is the mean retention on the forgetting curve (docs/recall.md), the
	// factor by which recall scales a memory's activation now: 1 fresh, towards 0 forgotten.
	AvgRetention   float64
	Oldest, Newest time.Time // observation times; zero without memories
}

// Census counts the space's memories by type and summarises their confidence, retention
// and observation times. It opens the space if needed and reads under the shared lock.
func (s *Space) Census() (Census, error) {
	st, err := s.acquire()
	if err != nil {
		return Census{}, err
	}
	defer s.mu.RUnlock()
	now := s.e.cfg.Now()
	c := Census{ByType: map[MemoryType]int{}}
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, lm := range st.byRow {
		if lm == nil {
			continue
		}
		m := &lm.m
		c.Memories++
		c.ByType[m.Type]++
		c.AvgConfidence += float64(m.Confidence)
		c.AvgRetention += lm.retention(now)
		if c.Oldest.IsZero() || m.ObservedAt.Before(c.Oldest) {
			c.Oldest = m.ObservedAt
		}
		if m.ObservedAt.After(c.Newest) {
			c.Newest = m.ObservedAt
		}
	}
	c.Consolidated = len(st.consolidated)
	if c.Memories > 0 {
		c.AvgConfidence /= float64(c.Memories)
		c.AvgRetention /= float64(c.Memories)
	}
	return c, nil
}

// EventRate is the space's rate of events of type t per second over the last minute
// (EventRecall: recalls answered; EventStorage: memories stored).
func (s *Space) EventRate(t EventType) float64 { return s.hub.rate(t, s.e.cfg.Now()) }
