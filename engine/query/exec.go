package query

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/engram-go/engram/engine"
)

// DefaultThreshold is the minimum score of a RECALL without THRESHOLD, the recall API's
// default.
const DefaultThreshold = 0.3

// Result is the answer to a query: the memories it returned, best first.
type Result struct {
	Verb string
	Hits []engine.Hit
	// Confidence of the answer as a whole, 0..1, from the hits' scores (0 without hits).
	Confidence float32
	Searched   int // memories the recall considered (RECALL of a text or vector)
	Hops       int // spreading rounds taken
	Took       time.Duration
}

// Execute runs q against sp. A nil sp is a space that does not exist: it answers as an
// empty space (a RECALL of a cue finds nothing, an id is not found).
func Execute(ctx context.Context, sp *engine.Space, q Query) (Result, error) {
	start := time.Now()
	var (
		res Result
		err error
	)
	switch q := q.(type) {
	case *Recall:
		res, err = execRecall(ctx, sp, q)
	case *Spread:
		res, err = execSpread(ctx, sp, q)
	case *Consolidate:
		res, err = execConsolidate(ctx, sp, q)
	default:
		return Result{}, fmt.Errorf("%w: %s is parsed but not answered by this server: it would have to invent memories no stored memory supports",
			ErrNotImplemented, q.Verb())
	}
	res.Verb = q.Verb()
	res.Took = time.Since(start)
	return res, err
}

func notFound(sp *engine.Space, id string) error {
	if sp == nil {
		return fmt.Errorf("%w: %q", engine.ErrNotFound, id)
	}
	return nil
}

func execRecall(ctx context.Context, sp *engine.Space, q *Recall) (Result, error) {
	if q.Pattern.ID != "" {
		if err := notFound(sp, q.Pattern.ID); err != nil {
			return Result{}, err
		}
		m, err := sp.Get(q.Pattern.ID)
		if err != nil {
			return Result{}, err
		}
		res := Result{}
		if keep(q, &m) {
			res.Hits = []engine.Hit{{Memory: m, Score: 1, Similarity: 1, Activation: 1, Direct: true, Path: []string{m.ID}}}
			res.Confidence = 1
		}
		return res, nil
	}
	if sp == nil {
		return Result{}, nil
	}
	limit := q.Limit
	if limit == 0 {
		limit = engine.DefaultMaxResults
	}
	cue := engine.Cue{Query: q.Pattern.Text, Embedding: q.Pattern.Vector, MaxResults: limit, Threshold: DefaultThreshold}
	if q.HasThreshold {
		cue.Threshold = q.Threshold
	}
	post := q.Confidence != nil
	for _, c := range q.Where {
		switch c.Field {
		case FieldTag:
			if c.Not {
				cue.ExcludedTags = append(cue.ExcludedTags, c.Text)
			} else {
				cue.RequiredTags = append(cue.RequiredTags, c.Text)
			}
		case FieldCreated:
			// The window is inclusive; BEFORE and AFTER are strict, which keep() enforces.
			if c.After && (cue.From.IsZero() || c.Time.After(cue.From)) {
				cue.From = c.Time
			}
			if !c.After && (cue.To.IsZero() || c.Time.Before(cue.To)) {
				cue.To = c.Time
			}
			post = true
		default:
			post = true
		}
	}
	if !cue.From.IsZero() && !cue.To.IsZero() && cue.To.Before(cue.From) {
		return Result{}, nil // an empty window: nothing can match
	}
	if post {
		// Filters the engine does not apply run on the widest result, then LIMIT cuts.
		cue.MaxResults = engine.MaxMaxResults
	}
	rr, err := sp.Recall(ctx, cue)
	if err != nil {
		return Result{}, err
	}
	all := make([]engine.Hit, 0, len(rr.Vivid)+len(rr.Associated)+len(rr.Reconstructed))
	for _, group := range [][]engine.Hit{rr.Vivid, rr.Associated, rr.Reconstructed} {
		for _, h := range group {
			if keep(q, &h.Memory) {
				all = append(all, h)
			}
		}
	}
	slices.SortStableFunc(all, func(a, b engine.Hit) int { return cmp.Compare(b.Score, a.Score) })
	if len(all) > limit {
		all = all[:limit]
	}
	res := Result{Hits: all, Searched: rr.Searched, Hops: rr.Hops, Confidence: rr.Confidence}
	if len(all) == 0 {
		res.Confidence = 0
	} else if post {
		res.Confidence = confidenceOf(all)
	}
	return res, nil
}

// confidenceOf weighs the best score most, as the engine's recall confidence does: the
// mean of the best score and the mean score.
func confidenceOf(hits []engine.Hit) float32 {
	var sum float32
	for _, h := range hits {
		sum += h.Score
	}
	return (hits[0].Score + sum/float32(len(hits))) / 2
}

// keep applies the WHERE and CONFIDENCE conditions of a RECALL to one memory.
func keep(q *Recall, m *engine.Memory) bool {
	if q.Confidence != nil && !q.Confidence.Holds(m.Confidence) {
		return false
	}
	return matches(q.Where, m)
}

// matches applies WHERE conditions to one memory.
func matches(where []Constraint, m *engine.Memory) bool {
	for _, c := range where {
		switch c.Field {
		case FieldContent:
			if !strings.Contains(strings.ToLower(m.Content), strings.ToLower(c.Text)) {
				return false
			}
		case FieldCreated:
			if c.After && !m.ObservedAt.After(c.Time) || !c.After && !m.ObservedAt.Before(c.Time) {
				return false
			}
		case FieldConfidence:
			if !c.Bound.Holds(m.Confidence) {
				return false
			}
		case FieldTag:
			if slices.Contains(m.Tags, c.Text) == c.Not {
				return false
			}
		case FieldType:
			if m.Type.String() != c.Text {
				return false
			}
		}
	}
	return true
}

// maxConsolidated bounds the episodes one CONSOLIDATE selects.
const maxConsolidated = 64

// execConsolidate forms the semantic memory named by INTO from the episodes selected by
// the pattern (recalled directly, as RECALL would, episodes only) or by WHERE (every
// episode of the space that matches).
func execConsolidate(ctx context.Context, sp *engine.Space, q *Consolidate) (Result, error) {
	if sp == nil {
		return Result{}, fmt.Errorf("%w: the space holds no episodes", engine.ErrInsufficientEvidence)
	}
	var eps []string
	switch {
	case q.Pattern != nil && q.Pattern.ID != "":
		eps = []string{q.Pattern.ID}
	case q.Pattern != nil:
		rr, err := sp.Recall(ctx, engine.Cue{Query: q.Pattern.Text, Embedding: q.Pattern.Vector, MaxResults: maxConsolidated,
			Threshold: DefaultThreshold, Mode: engine.ModeSimilarity, NoReinforce: true})
		if err != nil {
			return Result{}, err
		}
		for _, group := range [][]engine.Hit{rr.Vivid, rr.Associated} {
			for _, h := range group {
				if h.Direct && h.Memory.Type == engine.Episodic {
					eps = append(eps, h.Memory.ID)
				}
			}
		}
	default:
		all, err := sp.Reminisce(ctx, engine.EpisodeQuery{From: time.Unix(0, 0).UTC(), Limit: engine.MaxMaxResults})
		if err != nil {
			return Result{}, err
		}
		for i := range all {
			if m := &all[i].Memory; matches(q.Where, m) && len(eps) < maxConsolidated {
				eps = append(eps, m.ID)
			}
		}
	}
	m, err := sp.ConsolidateInto(ctx, eps, q.Into)
	if err != nil {
		return Result{}, err
	}
	return Result{Hits: []engine.Hit{{Memory: m, Score: m.Confidence, Activation: m.Confidence, Direct: true, Path: []string{m.ID}}},
		Confidence: m.Confidence}, nil
}

func execSpread(ctx context.Context, sp *engine.Space, q *Spread) (Result, error) {
	if err := notFound(sp, q.From); err != nil {
		return Result{}, err
	}
	acts, err := sp.Spread(ctx, []string{q.From}, engine.SpreadParams{MaxHops: q.MaxHops, Decay: q.Decay, Threshold: q.Threshold})
	if err != nil {
		return Result{}, err
	}
	var res Result
	for _, a := range acts {
		m, err := sp.Get(a.ID)
		if errors.Is(err, engine.ErrNotFound) {
			continue // forgotten since the spread
		}
		if err != nil {
			return Result{}, err
		}
		m.Embedding = nil
		res.Hits = append(res.Hits, engine.Hit{Memory: m, Score: a.Level, Activation: a.Level, Path: a.Path})
		res.Hops = max(res.Hops, a.Hops)
	}
	if len(res.Hits) > 0 {
		res.Confidence = confidenceOf(res.Hits)
	}
	return res, nil
}
