package frontend

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/engram-go/engram/engine"
)

// EpisodeSummary describes a set of recalled episodes (Reminisce, episodes/replay).
type EpisodeSummary struct {
	// Vividness is the mean of confidence × retention: how sure and how fresh the
	// recollection is, 0..1 (0 without episodes).
	Vividness float64
	Reasoning string // how Vividness was computed, for its ConfidenceInfo
	// Emotional: mean_valence of the episodes that carry one, and the fractions of
	// positive (> 0.1), negative (< -0.1) and neutral episodes.
	Emotional map[string]float64
	// Themes are the episodes' most frequent tags, most frequent first (at most 5).
	Themes []string
}

// SummarizeEpisodes computes the summary of eps.
func SummarizeEpisodes(eps []engine.RecalledEpisode) EpisodeSummary {
	s := EpisodeSummary{Reasoning: fmt.Sprintf("Mean confidence × retention of the %d episodes recalled.", len(eps)), Emotional: map[string]float64{"mean_valence": 0, "positive": 0, "negative": 0, "neutral": 0}, Themes: []string{}}
	if len(eps) == 0 {
		return s
	}
	tags := map[string]int{}
	for i := range eps {
		m := &eps[i].Memory
		s.Vividness += float64(m.Confidence) * eps[i].Retention
		var v float32
		if m.Episode != nil {
			v = m.Episode.EmotionalValence
		}
		s.Emotional["mean_valence"] += float64(v)
		switch {
		case v > 0.1:
			s.Emotional["positive"]++
		case v < -0.1:
			s.Emotional["negative"]++
		default:
			s.Emotional["neutral"]++
		}
		for _, t := range m.Tags {
			tags[t]++
		}
	}
	n := float64(len(eps))
	s.Vividness /= n
	for k := range s.Emotional {
		s.Emotional[k] /= n
	}
	for t := range tags {
		s.Themes = append(s.Themes, t)
	}
	slices.SortFunc(s.Themes, func(a, b string) int { return cmp.Or(cmp.Compare(tags[b], tags[a]), cmp.Compare(a, b)) })
	if len(s.Themes) > 5 {
		s.Themes = s.Themes[:5]
	}
	return s
}
