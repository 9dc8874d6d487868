package engine

import (
	"math"
	"time"
)

// Forgetting curve (docs/recall.md): retention R = exp(-age / S) where age is the time since
// the memory was last accessed (or observed, if never recalled) and the stability S grows
// with every recall: S = baseStability × (1 + ln(1 + accessCount)). Recall reinforces a
// memory by bumping its access count and last access.
const baseStability = 72 * time.Hour

func retention(m *Memory, now time.Time) float64 {
	return retentionOf(m.ObservedAt, m.LastAccess, m.AccessCount, now)
}

// retentionOf is the retention at now of a memory observed at observed, last accessed at
// last (zero if never) and recalled count times.
func retentionOf(observed, last time.Time, count uint32, now time.Time) float64 {
	if last.IsZero() || last.Before(observed) {
		last = observed
	}
	age := now.Sub(last)
	if age <= 0 {
		return 1
	}
	s := float64(baseStability) * (1 + math.Log1p(float64(count)))
	return math.Exp(-float64(age) / s)
}

// modulate turns a similarity or activation into the final score: it is weighted by the
// memory's confidence and by its retention, each of which can take away at most part of it,
// so a strong match of a fresh, confident memory stays strong.
func modulate(sim float32, lm *liveMemory, now time.Time) float32 {
	conf := 0.7 + 0.3*float64(lm.m.Confidence)
	ret := 0.8 + 0.2*lm.retention(now)
	return float32(float64(sim) * conf * ret)
}
