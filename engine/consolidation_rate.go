package engine

import (
	"sync"
	"time"
)

// consolidationStats measures episodes consolidated per second over the last minute.
type consolidationStats struct {
	mu     sync.Mutex
	events []consolidationEvent
}

type consolidationEvent struct {
	at       time.Time
	episodes int
}

func (c *consolidationStats) add(now time.Time, episodes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, consolidationEvent{now, episodes})
	c.trim(now)
}

func (c *consolidationStats) trim(now time.Time) {
	cut := 0
	for cut < len(c.events) && now.Sub(c.events[cut].at) > time.Minute {
		cut++
	}
	c.events = c.events[cut:]
}

func (c *consolidationStats) rate(now time.Time) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trim(now)
	n := 0
	for _, e := range c.events {
		n += e.episodes
	}
	return float64(n) / 60
}
