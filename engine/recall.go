package engine

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/engram-go/engram/engine/graph"
	"github.com/engram-go/engram/engine/index"
	"github.com/engram-go/engram/simd"
)

// Recall defaults.
const (
	DefaultMaxResults = 10
	MaxMaxResults     = 1000
	vividScore        = 0.7
	maxSeeds          = 10
	minSeedSimilarity = 0.2
)

func sortScored(s []index.Scored) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Score != s[j].Score {
			return s[i].Score > s[j].Score
		}
		return s[i].Row < s[j].Row
	})
}

// candidate is a memory considered by one recall, with its two kinds of evidence.
type candidate struct {
	row    uint32
	sim    float32  // direct similarity to the cue, vector or lexical (0 if not a direct match)
	spread float32  // activation reached over association edges (0 if none)
	path   []uint32 // the activation path [seed, ..., row] that gave spread
	seed   bool     // seeded the spreading
	full   bool     // every query term occurs in the content
	score  float32
}

// evidence returns the base score of c under mode and whether spreading gave it.
// Similarity: the direct match alone. Hybrid: the stronger of the two, a tie going to the
// direct match. Spreading: only seeds count their direct match; every other memory is
// scored by the activation that reached it, or not at all (docs/recall.md).
func (c *candidate) evidence(mode RecallMode) (base float32, spreading bool) {
	direct := c.sim
	switch mode {
	case ModeSimilarity:
		return direct, false
	case ModeSpreading:
		if !c.seed {
			direct = 0
		}
	}
	if c.spread > direct {
		return c.spread, true
	}
	return direct, false
}

// Recall answers a cue: direct similarity (vector and lexical), spreading activation over
// the association graph, scoring by retention and confidence, filters, and the vivid /
// associated / reconstructed split.
func (s *Space) Recall(ctx context.Context, cue Cue) (RecallResult, error) {
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return RecallResult{}, err
	}
	s.e.noteForegroundAt(start.UnixNano())
	cue.Query = strings.TrimSpace(cue.Query)
	if cue.Query == "" && len(cue.Embedding) == 0 {
		return RecallResult{}, fmt.Errorf("%w: a query or an embedding is required", ErrInvalidInput)
	}
	if cue.MaxResults == 0 {
		cue.MaxResults = DefaultMaxResults
	}
	if cue.MaxResults < 0 || cue.MaxResults > MaxMaxResults {
		return RecallResult{}, fmt.Errorf("%w: max_results must be 1-%d", ErrInvalidInput, MaxMaxResults)
	}
	if !(cue.Threshold >= 0 && cue.Threshold <= 1) {
		return RecallResult{}, fmt.Errorf("%w: threshold must be between 0 and 1", ErrInvalidInput)
	}
	if !cue.From.IsZero() && !cue.To.IsZero() && cue.To.Before(cue.From) {
		return RecallResult{}, fmt.Errorf("%w: to_time is before from_time", ErrInvalidInput)
	}
	var qvec []float32
	if len(cue.Embedding) > 0 {
		if err := ValidateEmbedding(cue.Embedding, s.settings.Dimension); err != nil {
			return RecallResult{}, err
		}
		qvec = append([]float32(nil), cue.Embedding...)
		simd.Normalize(qvec)
	} else if s.embedder != nil {
		qvec = make([]float32, s.settings.Dimension)
		s.embedder.Embed(cue.Query, qvec)
	}

	st, err := s.acquire()
	if err != nil {
		return RecallResult{}, err
	}
	defer s.mu.RUnlock()
	now := s.e.cfg.Now()

	st.mu.RLock()
	res, rows := st.recall(&cue, qvec, now)
	st.mu.RUnlock()
	res.Took = time.Since(start)

	if !cue.NoReinforce && len(rows) > 0 {
		st.reinforce(rows, now)
	}
	s.publishRecall(&cue, &res)
	return res, nil
}

// recall runs under st.mu (shared) and returns the result plus the rows it returned.
func (st *state) recall(cue *Cue, qvec []float32, now time.Time) (RecallResult, []uint32) {
	accept := st.filter(cue)
	want := max(3*cue.MaxResults, 30)
	cands := map[uint32]*candidate{}
	get := func(row uint32) *candidate {
		c, ok := cands[row]
		if !ok {
			c = &candidate{row: row}
			cands[row] = c
		}
		return c
	}
	if qvec != nil && simd.Norm(qvec) > 0 {
		vaccept := func(r uint32) bool { return accept(r) && st.recs[r].hasVec && st.recs[r].seg == nil }
		for _, h := range st.similar(qvec, len(st.recs), want, vaccept) {
			if h.Score > 0 {
				c := get(h.Row)
				c.sim = max(c.sim, h.Score)
			}
		}
		// Warm and cold segments are scanned in place (mmap'd, SIMD batch kernel).
		for _, sg := range st.segs {
			saccept := func(i int) bool {
				if sg.deleted.Has(i) {
					return false
				}
				r := sg.rows[i]
				return accept(r) && st.recs[r].seg == sg
			}
			for _, h := range sg.s.Scan(qvec, want, saccept) {
				if h.Score > 0 {
					c := get(sg.rows[h.Index])
					c.sim = max(c.sim, h.Score)
				}
			}
		}
	}
	if cue.Query != "" {
		lr := st.lex.Search(cue.Query, want, accept)
		var top float32
		for _, h := range lr.Hits {
			top = max(top, h.Score)
		}
		for _, h := range lr.Hits {
			if h.Matched == 0 || lr.QueryTerms == 0 {
				continue
			}
			norm := float32(0)
			if top > 0 {
				norm = h.Score / top
			}
			var lexSim float32
			if h.Matched >= lr.QueryTerms {
				lexSim = 0.95 + 0.05*norm
			} else {
				lexSim = 0.6*float32(h.Matched)/float32(lr.QueryTerms) + 0.1*norm
			}
			c := get(h.Row)
			c.sim = max(c.sim, lexSim)
			c.full = c.full || h.Matched >= lr.QueryTerms
		}
	}

	hops := 0
	if cue.Mode != ModeSimilarity && len(cands) > 0 {
		seeds := make([]*candidate, 0, len(cands))
		for _, c := range cands {
			if c.sim >= minSeedSimilarity {
				seeds = append(seeds, c)
			}
		}
		sort.Slice(seeds, func(i, j int) bool {
			if seeds[i].sim != seeds[j].sim {
				return seeds[i].sim > seeds[j].sim
			}
			return seeds[i].row < seeds[j].row
		})
		if len(seeds) > maxSeeds {
			seeds = seeds[:maxSeeds]
		}
		gs := make([]graph.Seed, len(seeds))
		for i, c := range seeds {
			c.seed = true
			gs[i] = graph.Seed{Node: c.row, Activation: c.sim}
		}
		sr := st.graph.Spread(gs, recallSpreadParams(cue.Mode), accept)
		hops = sr.Hops
		for _, a := range sr.Nodes {
			if a.Hops == 0 {
				continue // a seed at its own activation: that is its direct match
			}
			c := get(a.Node)
			c.spread, c.path = a.Activation, a.Path
		}
	}

	type hit struct {
		*candidate
		base      float32
		spreading bool
	}
	hits := make([]hit, 0, len(cands))
	for _, c := range cands {
		base, spreading := c.evidence(cue.Mode)
		c.score = modulate(base, &st.recs[c.row].m, now)
		if c.score >= cue.Threshold && c.score > 0 {
			hits = append(hits, hit{candidate: c, base: base, spreading: spreading})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.full != b.full {
			return a.full
		}
		if a.score != b.score {
			return a.score > b.score
		}
		return st.recs[a.row].m.ID < st.recs[b.row].m.ID
	})
	if len(hits) > cue.MaxResults {
		hits = hits[:cue.MaxResults]
	}

	res := RecallResult{Searched: st.live, Hops: hops, Tiers: st.tierNames()}
	rows := make([]uint32, len(hits))
	var sum float32
	for i, c := range hits {
		rows[i] = c.row
		sum += c.score
		path := []uint32{c.row}
		if c.spreading {
			path = c.path
		}
		h := Hit{
			Memory:     st.memoryAt(c.row, cue.WithEmbeddings),
			Score:      c.score,
			Similarity: c.sim,
			Activation: c.base,
			Direct:     !c.spreading,
			Path:       st.ids(path),
		}
		switch {
		case h.Memory.Type == Semantic && len(h.Memory.Citations) > 0:
			res.Reconstructed = append(res.Reconstructed, h)
		case h.Direct && c.score > vividScore:
			res.Vivid = append(res.Vivid, h)
		default:
			res.Associated = append(res.Associated, h)
		}
		if cue.Trace {
			res.Traces = append(res.Traces, Trace{MemoryID: h.Memory.ID, Activation: c.base, Path: h.Path})
		}
	}
	if len(hits) > 0 {
		// Confidence in the answer as a whole: mostly the best match, tempered by how well the
		// rest of the returned set holds up.
		mean := sum / float32(len(hits))
		res.Confidence = float32(math.Min(1, float64(0.7*hits[0].score+0.3*mean)))
	}
	return res, rows
}

// filter builds the acceptance test of a cue: live memory, tags, time window. Caller holds st.mu.
func (st *state) filter(cue *Cue) func(uint32) bool {
	req, exc := cue.RequiredTags, cue.ExcludedTags
	from, to := cue.From, cue.To
	return func(row uint32) bool {
		if !st.aliveLocked(row) {
			return false
		}
		m := &st.recs[row].m
		if !from.IsZero() && m.ObservedAt.Before(from) {
			return false
		}
		if !to.IsZero() && m.ObservedAt.After(to) {
			return false
		}
		for _, t := range req {
			if !hasTag(m.Tags, t) {
				return false
			}
		}
		for _, t := range exc {
			if hasTag(m.Tags, t) {
				return false
			}
		}
		return true
	}
}

func hasTag(tags []string, t string) bool {
	for _, x := range tags {
		if x == t {
			return true
		}
	}
	return false
}

func (st *state) ids(rows []uint32) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		if st.aliveLocked(r) {
			out = append(out, st.recs[r].m.ID)
		}
	}
	return out
}

// reinforce records an access of each returned memory.
func (st *state) reinforce(rows []uint32, now time.Time) {
	now = now.UTC()
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, r := range rows {
		if !st.aliveLocked(r) {
			continue
		}
		m := &st.recs[r].m
		m.AccessCount++
		m.LastAccess = now
		st.acc.record(m.ID, m.AccessCount, now)
		if st.recs[r].seg != nil {
			st.link.promote(m.ID)
		}
	}
}

func (s *Space) publishRecall(cue *Cue, res *RecallResult) {
	n := len(res.Vivid) + len(res.Associated) + len(res.Reconstructed)
	top := ""
	for _, l := range [][]Hit{res.Vivid, res.Associated, res.Reconstructed} {
		if len(l) > 0 && top == "" {
			top = l[0].Memory.ID
		}
	}
	s.publish(EventRecall, top, res.Confidence, map[string]any{"query": preview(cue.Query, 80), "results": n, "confidence": res.Confidence})
	for _, l := range [][]Hit{res.Vivid, res.Associated, res.Reconstructed} {
		for _, h := range l {
			s.publish(EventRetrieval, h.Memory.ID, h.Score, map[string]any{"score": h.Score})
			if !h.Direct {
				s.publish(EventActivation, h.Memory.ID, h.Activation, map[string]any{"activation": h.Activation, "path": h.Path})
			}
		}
	}
}
