package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/engram-go/engram/engine/index"
)

// ErrInsufficientEvidence: no stored memory supports a completion above its threshold.
var ErrInsufficientEvidence = errors.New("engine: insufficient evidence")

// Episode fields that pattern completion knows and fills.
const (
	FieldWhat  = "what"
	FieldWhen  = "when"
	FieldWhere = "where_location"
	FieldWho   = "who"
	FieldWhy   = "why"
	FieldHow   = "how"
	FieldTags  = "tags"
)

// CompletionFields lists the fields in their canonical order.
var CompletionFields = []string{FieldWhat, FieldWhen, FieldWhere, FieldWho, FieldWhy, FieldHow, FieldTags}

// Sources of a completed field.
const (
	SourceRecalled      = "recalled"      // an episode that matches the known fields directly
	SourceReconstructed = "reconstructed" // a memory reached from the matches over the association graph
	SourceConsolidated  = "consolidated"  // a semantic memory consolidated from episodes
)

// Completion defaults.
const (
	DefaultCompletionThreshold = 0.5
	maxCompletionCandidates    = 50
	maxAlternatives            = 3
)

// CompletionRequest is a partial episode: the fields known, the ones wanted.
type CompletionRequest struct {
	Known     map[string]string // field → value; "where" is read as where_location
	Missing   []string          // empty: every field not known
	Embedding []float32         // optional partial embedding of the episode
	// Threshold is the minimum confidence of a filled field, 0 = DefaultCompletionThreshold.
	Threshold float32
}

// FieldValue is one candidate value of a field with the evidence for it.
type FieldValue struct {
	Value      string
	Confidence float32  // 0..1: support of the best memory × share of all support
	Source     string   // SourceRecalled, SourceReconstructed or SourceConsolidated
	Memories   []string // ids of the memories holding this value, strongest first
}

// FieldCompletion is a filled field: the chosen value and the alternatives it beat.
type FieldCompletion struct {
	Field string
	FieldValue
	Alternatives []FieldValue
}

// Completion is the answer to a CompletionRequest.
type Completion struct {
	Fields     []FieldCompletion
	Unresolved []string // missing fields no memory supports above the threshold
	Confidence float32  // mean confidence of the filled fields × the share filled
	Evidence   []Hit    // the memories consulted, best supported first (Score = support)
}

// Complete fills the missing fields of a partial episode from the space's memories: the
// episodes that agree best with the known fields (and the partial embedding) are recalled,
// memories associated with them are reached by spreading activation, and every missing
// field takes the value with the most support. A field no memory supports above the
// threshold stays unresolved; when none can be filled the answer is
// ErrInsufficientEvidence, never an invented value. Nothing is reinforced.
func (s *Space) Complete(ctx context.Context, req CompletionRequest) (Completion, error) {
	known, missing, err := req.check()
	if err != nil {
		return Completion{}, err
	}
	threshold := req.Threshold
	if threshold == 0 {
		threshold = DefaultCompletionThreshold
	}
	if !(threshold > 0 && threshold <= 1) {
		return Completion{}, fmt.Errorf("%w: completion_threshold must be in (0, 1]", ErrInvalidInput)
	}
	hits, err := s.completionCandidates(ctx, known, req.Embedding)
	if err != nil {
		return Completion{}, err
	}
	// Support of a direct match: its agreement with the known fields. Of a memory found by
	// spreading: the activation that reached it, scaled by the best direct support, so
	// the graph never lends more confidence than the matches it started from.
	var evidence []Hit
	var best float32
	for i := range hits {
		if h := &hits[i]; h.Direct {
			h.Score = agreement(known, len(req.Embedding) > 0, h)
			best = max(best, h.Score)
		}
	}
	for _, h := range hits {
		if !h.Direct {
			h.Score = min(1, h.Activation) * best
		}
		if h.Score > 0 {
			evidence = append(evidence, h)
		}
	}
	slices.SortStableFunc(evidence, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Memory.ID, b.Memory.ID))
	})
	out := Completion{Evidence: evidence}
	var sum float32
	for _, f := range missing {
		fc, ok := completeField(f, evidence, threshold)
		if !ok {
			out.Unresolved = append(out.Unresolved, f)
			continue
		}
		out.Fields = append(out.Fields, fc)
		sum += fc.Confidence
	}
	if len(out.Fields) == 0 {
		return out, fmt.Errorf("%w: no memory of space %q supports a value for %s above %.2f",
			ErrInsufficientEvidence, s.id, strings.Join(missing, ", "), threshold)
	}
	out.Confidence = sum / float32(len(missing))
	return out, nil
}

// Validate checks the request as Complete does, without reading a space.
func (req *CompletionRequest) Validate() error {
	_, _, err := req.check()
	if err == nil && !(req.Threshold >= 0 && req.Threshold <= 1) {
		err = fmt.Errorf("%w: completion_threshold must be in (0, 1]", ErrInvalidInput)
	}
	return err
}

// check validates the request and returns the known fields (canonical names, trimmed) and
// the fields to fill.
func (req *CompletionRequest) check() (map[string]string, []string, error) {
	known := map[string]string{}
	for k, v := range req.Known {
		f := CanonicalField(k)
		if !slices.Contains(CompletionFields, f) {
			return nil, nil, fmt.Errorf("%w: known_fields: unknown field %q (known: %s)", ErrInvalidInput, k, strings.Join(CompletionFields, ", "))
		}
		if v = strings.TrimSpace(v); v == "" {
			return nil, nil, fmt.Errorf("%w: known_fields.%s is empty", ErrInvalidInput, k)
		}
		if f == FieldWhen {
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				return nil, nil, fmt.Errorf("%w: known_fields.when must be an RFC 3339 time, got %q", ErrInvalidInput, v)
			}
		}
		known[f] = v
	}
	if len(known) == 0 && len(req.Embedding) == 0 {
		return nil, nil, fmt.Errorf("%w: known_fields (or an embedding) are required: what is known of the episode?", ErrInvalidInput)
	}
	var missing []string
	for _, k := range req.Missing {
		f := CanonicalField(k)
		if !slices.Contains(CompletionFields, f) {
			return nil, nil, fmt.Errorf("%w: missing_fields: unknown field %q (known: %s)", ErrInvalidInput, k, strings.Join(CompletionFields, ", "))
		}
		if _, ok := known[f]; ok {
			return nil, nil, fmt.Errorf("%w: %s is both known and missing", ErrInvalidInput, f)
		}
		if !slices.Contains(missing, f) {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		for _, f := range CompletionFields {
			if _, ok := known[f]; !ok {
				missing = append(missing, f)
			}
		}
	}
	if len(missing) == 0 {
		return nil, nil, fmt.Errorf("%w: every field is known; nothing to complete", ErrInvalidInput)
	}
	return known, missing, nil
}

// CanonicalField is the name Complete uses for a field name a client sent: "where" and
// "location" are where_location, "content" is what; other names are lower-cased.
func CanonicalField(f string) string {
	f = strings.ToLower(strings.TrimSpace(f))
	switch f {
	case "where", "location":
		return FieldWhere
	case "content":
		return FieldWhat
	}
	return f
}

// completionCandidates recalls the memories that may complete the episode: a hybrid
// recall of the known text (and embedding), or, when only the time is known, the
// episodes around it.
func (s *Space) completionCandidates(ctx context.Context, known map[string]string, emb []float32) ([]Hit, error) {
	var text []string
	for _, f := range CompletionFields {
		if v, ok := known[f]; ok && f != FieldWhen {
			text = append(text, v)
		}
	}
	if len(text) == 0 && len(emb) == 0 {
		when, _ := time.Parse(time.RFC3339Nano, known[FieldWhen])
		eps, err := s.Reminisce(ctx, EpisodeQuery{Around: when, Limit: maxCompletionCandidates})
		if err != nil {
			return nil, err
		}
		hits := make([]Hit, len(eps))
		for i := range eps {
			hits[i] = Hit{Memory: eps[i].Memory, Direct: true, Path: []string{eps[i].Memory.ID}}
		}
		return hits, nil
	}
	res, err := s.Recall(ctx, Cue{Query: strings.Join(text, " "), Embedding: emb, MaxResults: maxCompletionCandidates,
		Mode: ModeHybrid, NoReinforce: true})
	if err != nil {
		return nil, err
	}
	return slices.Concat(res.Vivid, res.Associated, res.Reconstructed), nil
}

// agreement is how well a directly matched memory agrees with the known fields: the mean,
// over the known fields the memory holds, of a per-field similarity (and the embedding
// similarity when one was given). A memory holding none of them has no support.
func agreement(known map[string]string, withEmbedding bool, h *Hit) float32 {
	var sum float64
	n := 0
	for _, f := range CompletionFields { // a fixed order: the same sum every time
		want, ok := known[f]
		if !ok {
			continue
		}
		have := fieldOf(&h.Memory, f)
		if have == "" {
			continue
		}
		sum += fieldSimilarity(f, want, have)
		n++
	}
	if withEmbedding {
		sum += float64(max(0, h.Similarity))
		n++
	}
	if n == 0 {
		return 0
	}
	return float32(sum / float64(n))
}

// fieldOf reads an episode field of a memory ("" when it has none).
func fieldOf(m *Memory, f string) string {
	var ep Episode
	if m.Episode != nil {
		ep = *m.Episode
	}
	switch f {
	case FieldWhat:
		return m.Content
	case FieldWhen:
		if m.Type != Episodic || m.ObservedAt.IsZero() {
			return ""
		}
		return m.ObservedAt.UTC().Format(time.RFC3339)
	case FieldWhere:
		return ep.Where
	case FieldWho:
		return strings.Join(ep.Who, ", ")
	case FieldWhy:
		return ep.Why
	case FieldHow:
		return ep.How
	case FieldTags:
		return strings.Join(m.Tags, ", ")
	}
	return ""
}

// fieldSimilarity compares two values of a field, 0..1: times by closeness (1 within the
// hour, halving every further day), lists by set overlap, texts by overlap of their terms.
func fieldSimilarity(f, a, b string) float64 {
	switch f {
	case FieldWhen:
		ta, _ := time.Parse(time.RFC3339Nano, a)
		tb, _ := time.Parse(time.RFC3339Nano, b)
		d := ta.Sub(tb).Abs()
		if d <= time.Hour {
			return 1
		}
		return math.Exp2(-(d - time.Hour).Hours() / 24)
	case FieldWho, FieldTags:
		return jaccard(listItems(a), listItems(b))
	}
	return jaccard(index.Tokenize(a), index.Tokenize(b))
}

func listItems(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func jaccard(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	set := map[string]bool{}
	for _, x := range a {
		set[x] = true
	}
	inter, union := 0, len(set)
	seen := map[string]bool{}
	for _, x := range b {
		if seen[x] {
			continue
		}
		seen[x] = true
		if set[x] {
			inter++
		} else {
			union++
		}
	}
	return float64(inter) / float64(union)
}

func sourceOf(h *Hit) string {
	switch {
	case h.Memory.Type == Semantic && len(h.Memory.Citations) > 0:
		return SourceConsolidated
	case h.Direct:
		return SourceRecalled
	}
	return SourceReconstructed
}

// completeField picks the best supported value of field f among the evidence. Values are
// grouped case-insensitively; a value's confidence is its best memory's support times its
// share of the support of all values, so conflicting memories lower it.
func completeField(f string, evidence []Hit, threshold float32) (FieldCompletion, bool) {
	type group struct {
		FieldValue
		total, best float32
	}
	var groups []*group
	var all float32
	for i := range evidence {
		h := &evidence[i]
		v := fieldOf(&h.Memory, f)
		if v == "" {
			continue
		}
		all += h.Score
		key := strings.ToLower(v)
		j := slices.IndexFunc(groups, func(g *group) bool { return strings.ToLower(g.Value) == key })
		if j < 0 {
			groups = append(groups, &group{FieldValue: FieldValue{Value: v, Source: sourceOf(h)}, best: h.Score})
			j = len(groups) - 1
		}
		g := groups[j]
		g.total += h.Score
		g.Memories = append(g.Memories, h.Memory.ID)
	}
	if all == 0 {
		return FieldCompletion{}, false
	}
	for _, g := range groups {
		g.Confidence = g.best * g.total / all
	}
	slices.SortStableFunc(groups, func(a, b *group) int { return cmp.Compare(b.Confidence, a.Confidence) })
	if groups[0].Confidence < threshold {
		return FieldCompletion{}, false
	}
	fc := FieldCompletion{Field: f, FieldValue: groups[0].FieldValue}
	for _, g := range groups[1:min(len(groups), maxAlternatives+1)] {
		fc.Alternatives = append(fc.Alternatives, g.FieldValue)
	}
	return fc, true
}
