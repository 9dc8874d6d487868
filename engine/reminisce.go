package engine

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// EpisodeQuery selects episodic memories by their context. Zero fields do not filter; at
// least one of the cue fields (Around, Where, Who, Topic) or a window bound must be set.
type EpisodeQuery struct {
	Around   time.Time     // episodes observed closest to this time first
	Window   time.Duration // with Around and no From/To: ± this much (default 24h)
	Where    string        // the episode's place contains this, case-insensitive
	Who      []string      // the episode involves at least one of these people, case-insensitive
	Topic    string        // recalled by this text (lexical and vector similarity)
	From, To time.Time     // observation-time window, inclusive
	Limit    int           // default 20, at most MaxMaxResults
}

// Validate checks that q has a cue, a limit in range and a window in order.
func (q *EpisodeQuery) Validate() error {
	if q.Around.IsZero() && q.Where == "" && len(q.Who) == 0 && q.Topic == "" && q.From.IsZero() && q.To.IsZero() {
		return fmt.Errorf("%w: a cue is required: a time, a place, people, a topic or a time window", ErrInvalidInput)
	}
	if q.Limit < 0 || q.Limit > MaxMaxResults {
		return fmt.Errorf("%w: limit must be 1-%d", ErrInvalidInput, MaxMaxResults)
	}
	if q.Window < 0 {
		return fmt.Errorf("%w: window must not be negative", ErrInvalidInput)
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return fmt.Errorf("%w: the time window ends before it starts", ErrInvalidInput)
	}
	return nil
}

// RecalledEpisode is one episode a reminiscence found, with its retention on the forgetting
// curve (docs/recall.md) at the time of the call.
type RecalledEpisode struct {
	Memory    Memory
	Retention float64
}

// Reminisce returns the episodic memories that match q: for Around, the closest in time
// first; for Topic, the best recalled first; otherwise in observation order. It reads
// only (a Topic recall reinforces nothing). ErrInvalidInput when q has no cue.
func (s *Space) Reminisce(ctx context.Context, q EpisodeQuery) ([]RecalledEpisode, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if q.Limit == 0 {
		q.Limit = 20
	}
	if !q.Around.IsZero() && q.From.IsZero() && q.To.IsZero() {
		w := q.Window
		if w <= 0 {
			w = 24 * time.Hour
		}
		q.From, q.To = q.Around.Add(-w), q.Around.Add(w)
	}
	match := func(typ MemoryType, observed time.Time, episode *Episode) bool {
		if typ != Episodic || !q.From.IsZero() && observed.Before(q.From) || !q.To.IsZero() && observed.After(q.To) {
			return false
		}
		var ep Episode
		if episode != nil {
			ep = *episode
		}
		if q.Where != "" && !strings.Contains(strings.ToLower(ep.Where), strings.ToLower(q.Where)) {
			return false
		}
		if len(q.Who) > 0 && !slices.ContainsFunc(ep.Who, func(p string) bool {
			return slices.ContainsFunc(q.Who, func(w string) bool { return strings.EqualFold(strings.TrimSpace(w), strings.TrimSpace(p)) })
		}) {
			return false
		}
		return true
	}
	now := s.e.cfg.Now()
	var out []RecalledEpisode
	if q.Topic != "" {
		res, err := s.Recall(ctx, Cue{Query: q.Topic, MaxResults: MaxMaxResults, Mode: ModeSimilarity, NoReinforce: true,
			From: q.From, To: q.To})
		if err != nil {
			return nil, err
		}
		for _, group := range [][]Hit{res.Vivid, res.Associated, res.Reconstructed} {
			for i := range group {
				if m := &group[i].Memory; match(m.Type, m.ObservedAt, m.Episode) {
					out = append(out, RecalledEpisode{Memory: *m, Retention: retention(m, now)})
				}
			}
		}
		if len(out) > q.Limit {
			out = out[:q.Limit]
		}
		return out, nil
	}
	st, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	st.mu.RLock()
	for row, lm := range st.byRow {
		if lm != nil && match(lm.m.Type, lm.m.ObservedAt, lm.m.Episode) {
			out = append(out, RecalledEpisode{Memory: st.memoryAt(uint32(row), false), Retention: lm.retention(now)})
		}
	}
	st.mu.RUnlock()
	if !q.Around.IsZero() {
		dist := func(m *Memory) time.Duration { return m.ObservedAt.Sub(q.Around).Abs() }
		slices.SortStableFunc(out, func(a, b RecalledEpisode) int {
			return cmp.Or(cmp.Compare(dist(&a.Memory), dist(&b.Memory)), cmp.Compare(a.Memory.ID, b.Memory.ID))
		})
	} else {
		slices.SortStableFunc(out, func(a, b RecalledEpisode) int {
			return cmp.Or(a.Memory.ObservedAt.Compare(b.Memory.ObservedAt), cmp.Compare(a.Memory.ID, b.Memory.ID))
		})
	}
	if len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}
