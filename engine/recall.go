package engine

import (
	"context"
	"fmt"
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

// candidate is a memory considered by one recall, with its two kinds of evidence.
type candidate struct {
	row    uint32
	sim    float32  // direct similarity to the cue, vector or lexical (0 if not a direct match)
	spread float32  // activation reached over association edges (0 if none)
	path   []uint32 // the activation path [seed, ..., row] that gave spread
	seed   bool     // seeded the spreading
	// measured: sim includes the cue's exact cosine with this memory (a vector search
	// returned it, or spreading reached it and it was measured: spreadInto)
	measured bool
	full     bool // every query term occurs in the content
	score    float32
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
	if err := s.ready(); err != nil {
		return RecallResult{}, err
	}
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
	} else if s.emb.remote != nil {
		var err error
		if qvec, err = s.cueVector(ctx, cue.Query); err != nil {
			return RecallResult{}, err
		}
	} else if s.embedder != nil {
		qvec = make([]float32, s.settings.Dimension)
		s.embedder.Embed(cue.Query, qvec)
	}

	st, err := s.acquire()
	if err != nil {
		return RecallResult{}, err
	}
	defer s.mu.RUnlock()
	st.link.lastRecall.note(start.UnixNano())
	now := s.e.cfg.Now()

	// The vector stage of an unfiltered cue runs before st.mu is taken: it is most of a
	// recall's work, and every writer's exclusive section waits for the recalls inside it.
	var vs vectorStage
	if qvec != nil && cue.unfiltered() {
		vs = st.vectorStageOf(qvec, recallWant(&cue))
	}
	st.mu.RLock()
	res, rows := st.recall(&cue, qvec, now, vs)
	if !cue.NoReinforce {
		st.reinforce(rows, now)
	}
	st.mu.RUnlock()
	res.Took = time.Since(start)
	s.publishRecall(&cue, &res)
	return res, nil
}

// recallWant is how many direct candidates a recall gathers from each source.
func recallWant(cue *Cue) int { return max(3*cue.MaxResults, 30) }

// vectorStage is the hot tier's vector search of a recall, run without st.mu over the rows
// complete when it started (state.rows), with no acceptance test: recall takes its hits
// only if, under st.mu, every one is still a live hot memory with a vector (then they are
// what the filtered search would have ranked first, as of that instant), and otherwise
// searches again under the lock.
type vectorStage struct {
	hits []index.Scored
	done bool
}

func (st *state) vectorStageOf(qvec []float32, want int) vectorStage {
	if !(simd.Norm(qvec) > 0) {
		return vectorStage{}
	}
	return vectorStage{hits: st.similar(qvec, int(st.rows.Load()), want, nil), done: true}
}

// unfiltered reports whether the cue accepts every live memory.
func (c *Cue) unfiltered() bool {
	return len(c.RequiredTags) == 0 && len(c.ExcludedTags) == 0 && c.From.IsZero() && c.To.IsZero()
}

// recall runs under st.mu (shared) and returns the result plus the rows it returned. vs
// is the vector stage when it ran before the lock.
func (st *state) recall(cue *Cue, qvec []float32, now time.Time, vs vectorStage) (RecallResult, []uint32) {
	accept := st.filter(cue)
	want := recallWant(cue)
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
		vaccept := func(r uint32) bool { return accept(r) && st.byRow[r].hasVec && st.byRow[r].seg == nil }
		hits := vs.hits
		if !vs.done || !allAccepted(hits, vaccept) {
			hits = st.similar(qvec, len(st.byRow), want, vaccept)
		}
		for _, h := range hits {
			c := get(h.Row)
			c.sim, c.measured = max(c.sim, h.Score), true
		}
		if st.indexAnswers(len(st.byRow)) && !anyAtLeast(cands, minSeedSimilarity) {
			// The index found no good match: the cue may be near an isolated memory the
			// index's search cannot reach, so the sparse rows are compared exactly.
			var v []float32
			for _, r := range st.link.sparseRows() {
				if c, ok := cands[r]; (ok && c.measured) || !accept(r) || !st.byRow[r].hasVec {
					continue
				}
				if v == nil {
					v = make([]float32, st.dim)
				}
				c := get(r)
				c.sim, c.measured = max(c.sim, simd.Dot(st.vectorAt(r, v), qvec)), true
			}
		}
		// Warm and cold segments are scanned in place (mmap'd, SIMD batch kernel).
		for _, sg := range st.segs {
			saccept := func(i int) bool {
				if sg.deleted.Has(i) {
					return false
				}
				r := sg.rows[i]
				return accept(r) && st.byRow[r].seg == sg
			}
			for _, h := range sg.s.Scan(qvec, want, saccept) {
				c := get(sg.rows[h.Index])
				c.sim, c.measured = max(c.sim, h.Score), true
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
		hops = st.spreadInto(cands, get, cue.Mode, qvec, accept)
	}

	type hit struct {
		*candidate
		base      float32
		spreading bool
	}
	hits := make([]hit, 0, len(cands))
	for _, c := range cands {
		base, spreading := c.evidence(cue.Mode)
		c.score = modulate(base, st.byRow[c.row], now)
		if c.score >= cue.Threshold && c.score > 0 && base > 0 {
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
		return st.byRow[a.row].m.ID < st.byRow[b.row].m.ID
	})
	if len(hits) > cue.MaxResults {
		hits = hits[:cue.MaxResults]
	}

	res := RecallResult{Searched: st.live, Hops: hops, Tiers: st.tierNames()}
	rows := make([]uint32, len(hits))
	scores := make([]float32, len(hits))
	for i, c := range hits {
		rows[i], scores[i] = c.row, c.score
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
	// The best score, not the first hit's: hits holding every query term come first.
	res.Confidence = AnswerConfidence(scores)
	return res, rows
}

// Bounds of the second look spreading takes at the direct matches (spreadInto).
const (
	// remeasure is how many of the strongest memories reached by spreading, without a
	// measured direct similarity, get one.
	remeasure = 64
	// spreadRounds: the first spreading, and one more if the remeasure found new seeds.
	spreadRounds = 2
)

// spreadInto seeds spreading activation with the strongest direct matches (at most
// maxSeeds, similarity at least minSeedSimilarity) and records on each candidate the
// activation that reached it and its path. It returns the hops taken.
//
// The index's search is approximate and weakest for a memory far from every cluster, yet
// such a memory can be a strong direct match whose associations are the answer. So the
// strongest memories the spreading reached whose direct similarity was not measured get
// it measured exactly (one dot product each, up to remeasure of them); when that gives a
// new seed, the spreading runs once more from the corrected seeds. Caller holds st.mu.
func (st *state) spreadInto(cands map[uint32]*candidate, get func(uint32) *candidate, mode RecallMode, qvec []float32, accept func(uint32) bool) int {
	p := recallSpreadParams(mode)
	var sr graph.Result
	for round := 1; ; round++ {
		seeds := pickSeeds(cands)
		gs := make([]graph.Seed, len(seeds))
		for i, c := range seeds {
			gs[i] = graph.Seed{Node: c.row, Activation: c.sim}
		}
		sr = st.graph.Spread(gs, p, accept)
		if round == spreadRounds || qvec == nil || !st.remeasure(sr.Nodes, cands, get, qvec, seeds) {
			break
		}
	}
	for _, a := range sr.Nodes {
		if a.Hops == 0 {
			continue // a seed at its own activation: that is its direct match
		}
		c := get(a.Node)
		c.spread, c.path = a.Activation, a.Path
	}
	return sr.Hops
}

// allAccepted reports whether accept takes every hit.
func allAccepted(hits []index.Scored, accept func(uint32) bool) bool {
	for _, h := range hits {
		if !accept(h.Row) {
			return false
		}
	}
	return true
}

// anyAtLeast reports whether a candidate's direct similarity reaches sim.
func anyAtLeast(cands map[uint32]*candidate, sim float32) bool {
	for _, c := range cands {
		if c.sim >= sim {
			return true
		}
	}
	return false
}

// pickSeeds marks and returns the strongest direct candidates, strongest first.
func pickSeeds(cands map[uint32]*candidate) []*candidate {
	seeds := make([]*candidate, 0, maxSeeds)
	for _, c := range cands {
		c.seed = false
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
	for _, c := range seeds {
		c.seed = true
	}
	return seeds
}

// remeasure measures the direct similarity of the strongest reached memories that lack
// one (nodes are sorted by activation) and reports whether any of them now belongs among
// the seeds. Caller holds st.mu.
func (st *state) remeasure(nodes []graph.Activated, cands map[uint32]*candidate, get func(uint32) *candidate, qvec []float32, seeds []*candidate) bool {
	joins := func(sim float32) bool { // would sim make a seed?
		return sim >= minSeedSimilarity && (len(seeds) < maxSeeds || sim > seeds[len(seeds)-1].sim)
	}
	var buf []float32
	newSeed := false
	measured := 0
	for _, a := range nodes {
		if measured == remeasure {
			break
		}
		if c, ok := cands[a.Node]; ok && c.measured {
			continue
		}
		lm := st.byRow[a.Node]
		if !lm.hasVec {
			continue
		}
		measured++
		if buf == nil {
			buf = make([]float32, st.dim)
		}
		c := get(a.Node)
		c.measured = true
		if sim := simd.Dot(st.vectorAt(a.Node, buf), qvec); sim > c.sim {
			c.sim = sim
			newSeed = newSeed || joins(sim)
		}
	}
	return newSeed
}

// filter builds the acceptance test of a cue: live memory, tags, time window. Caller holds st.mu.
func (st *state) filter(cue *Cue) func(uint32) bool {
	req, exc := cue.RequiredTags, cue.ExcludedTags
	from, to := cue.From, cue.To
	return func(row uint32) bool {
		if !st.aliveLocked(row) {
			return false
		}
		m := &st.byRow[row].m
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
			out = append(out, st.byRow[r].m.ID)
		}
	}
	return out
}

// reinforce records an access at now of each of rows, which the recall returned under the
// same hold of st.mu (shared): recalls reinforce concurrently, through each memory's
// atomics (access), and none waits for another or for a writer's exclusive section.
func (st *state) reinforce(rows []uint32, now time.Time) {
	if len(rows) == 0 {
		return
	}
	for _, r := range rows {
		lm := st.byRow[r]
		lm.acc.reinforce(now)
		if lm.seg != nil {
			st.link.promote(lm.m.ID)
		}
	}
	st.acc.note(st.byRow, rows)
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
