package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/engram-go/engram/engine/graph"
	"github.com/engram-go/engram/simd"
)

func TestRecallLexicalFirstAndVivid(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Defaults.Dimension = 256
	e := openTest(t, cfg)
	defer e.Close()
	s := mustSpace(t, e, "default")
	other := mustSpace(t, e, "other-space")
	ctx := context.Background()
	for i := 0; i < 200; i++ {
		if _, err := s.Remember(ctx, Memory{Content: fmt.Sprintf("note %d about gardening, weather and trains number %d", i, i*7), Confidence: 0.7}, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	target, err := s.Remember(ctx, Memory{Content: "The mitochondria is the powerhouse of the cell", Confidence: 0.7}, RememberOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Remember(ctx, Memory{Content: "mitochondria in another tenant", Confidence: 0.9}, RememberOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Recall(ctx, Cue{Query: "mitochondria", Threshold: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Vivid) == 0 || res.Vivid[0].Memory.ID != target.Memory.ID {
		t.Fatalf("want %s first in vivid, got %+v", target.Memory.ID, res.Vivid)
	}
	if res.Confidence <= 0 || res.Confidence > 1 {
		t.Fatalf("recall confidence %v", res.Confidence)
	}
	for _, h := range allHits(res) {
		if h.Memory.Content == "mitochondria in another tenant" {
			t.Fatal("recall crossed spaces")
		}
	}
	empty, err := s.Recall(ctx, Cue{Query: "zeppelin", Threshold: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(allHits(empty)); n != 0 || empty.Confidence != 0 {
		t.Fatalf("unrelated query returned %d hits, confidence %v", n, empty.Confidence)
	}
}

// TestSpreadingReachesIndirectMemory: C is not similar to the cue, only to B, which is.
func TestSpreadingReachesIndirectMemory(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Defaults.Dimension = 8
	cfg.EmbeddingProvider = "none"
	e := openTest(t, cfg)
	defer e.Close()
	s := mustSpace(t, e, "default")
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r2 := float32(1 / math.Sqrt2)
	mems := []Memory{
		{ID: "a", Content: "alpha", Embedding: zeroPadded(8, 1), ObservedAt: base},
		{ID: "b", Content: "bravo", Embedding: zeroPadded(8, r2, r2), ObservedAt: base.Add(24 * time.Hour)},
		{ID: "c", Content: "charlie", Embedding: zeroPadded(8, 0, r2, r2), ObservedAt: base.Add(48 * time.Hour)},
		{ID: "d", Content: "delta", Embedding: zeroPadded(8, 0, 0, 0, 1), ObservedAt: base.Add(72 * time.Hour)},
	}
	for _, m := range mems {
		m.Confidence = 0.9
		if _, err := s.Remember(ctx, m, RememberOptions{AutoLink: true}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.Recall(ctx, Cue{Embedding: zeroPadded(8, 1), Threshold: 0.01, Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	var c *Hit
	for i, h := range res.Associated {
		if h.Memory.ID == "c" {
			c = &res.Associated[i]
		}
	}
	if c == nil {
		t.Fatalf("c not reached by spreading: %+v", res)
	}
	if c.Direct || len(c.Path) < 2 || c.Path[len(c.Path)-2] != "b" || c.Path[len(c.Path)-1] != "c" {
		t.Fatalf("c path = %v direct=%v", c.Path, c.Direct)
	}
	for _, h := range allHits(res) {
		if h.Memory.ID == "d" {
			t.Fatal("unlinked, dissimilar memory returned")
		}
	}
	if len(res.Traces) == 0 {
		t.Fatal("no traces with Trace set")
	}
	sim, err := s.Recall(ctx, Cue{Embedding: zeroPadded(8, 1), Threshold: 0.01, Mode: ModeSimilarity})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range allHits(sim) {
		if h.Memory.ID == "c" {
			t.Fatal("similarity mode used spreading")
		}
	}
	// Edges are durable: after reopen c is still reached.
	e.Close()
	e = openTest(t, cfg)
	defer e.Close()
	s, _ = e.Space("default")
	res, err = s.Recall(ctx, Cue{Embedding: zeroPadded(8, 1), Threshold: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, h := range res.Associated {
		found = found || h.Memory.ID == "c"
	}
	if !found {
		t.Fatal("c not reached after reopen: edges not recovered")
	}
}

func TestDecayRanksOldBelowFresh(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	cfg := testConfig(t, t.TempDir())
	cfg.Now = func() time.Time { return now }
	e := openTest(t, cfg)
	defer e.Close()
	s := mustSpace(t, e, "default")
	ctx := context.Background()
	v := zeroPadded(16, 1, 2, 3)
	if _, err := s.Remember(ctx, Memory{ID: "old", Content: "the same fact", Embedding: v, Confidence: 0.8, ObservedAt: now.Add(-60 * 24 * time.Hour)}, RememberOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remember(ctx, Memory{ID: "fresh", Content: "the same fact", Embedding: v, Confidence: 0.8, ObservedAt: now}, RememberOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Recall(ctx, Cue{Embedding: v, Threshold: 0, Mode: ModeSimilarity})
	if err != nil {
		t.Fatal(err)
	}
	hits := allHits(res)
	if len(hits) < 2 || hits[0].Memory.ID != "fresh" || hits[0].Score <= hits[1].Score {
		t.Fatalf("fresh should outrank old: %+v", hits)
	}
	// Recall reinforces: access counts and last access are updated.
	m, _ := s.Get("fresh")
	if m.AccessCount != 1 || !m.LastAccess.Equal(now) {
		t.Fatalf("not reinforced: count=%d last=%v", m.AccessCount, m.LastAccess)
	}
}

func TestRecallFilters(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	e := openTest(t, cfg)
	defer e.Close()
	s := mustSpace(t, e, "default")
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, tags := range [][]string{{"work"}, {"home"}, {"work", "urgent"}} {
		if _, err := s.Remember(ctx, Memory{ID: fmt.Sprint("m", i), Content: "meeting notes", Tags: tags, Confidence: 0.8, ObservedAt: t0.Add(time.Duration(i) * time.Hour)}, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		cue  Cue
		want map[string]bool
	}{
		{"required", Cue{RequiredTags: []string{"work"}}, map[string]bool{"m0": true, "m2": true}},
		{"excluded", Cue{ExcludedTags: []string{"urgent"}}, map[string]bool{"m0": true, "m1": true}},
		{"from", Cue{From: t0.Add(30 * time.Minute)}, map[string]bool{"m1": true, "m2": true}},
		{"to", Cue{To: t0.Add(30 * time.Minute)}, map[string]bool{"m0": true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cue := tc.cue
			cue.Query = "meeting notes"
			cue.Mode = ModeSimilarity
			res, err := s.Recall(ctx, cue)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, h := range allHits(res) {
				got[h.Memory.ID] = true
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestEdgesFromIndexInserts: once a space builds its vector index, a new memory's edges
// come from the index lane's insert. A near-duplicate of an old memory and of a recent one
// must both be linked to them, and another space must not see the memory.
func TestEdgesFromIndexInserts(t *testing.T) {
	const dim = 16
	e, s, other := openVectorSpaces(t, dim)
	defer e.Close()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 9))
	const total = hnswStartRows + 1000
	vecs := rememberRandom(t, s, rng, nil, total)
	// Without auto_link the twins take their turn: their edges come from the index
	// inserts (with auto_link they would be linked ahead, TestAutoLinkAheadOfBacklog).
	for _, twin := range []int{10, total - 5} {
		if _, err := s.Remember(ctx, Memory{ID: fmt.Sprintf("twin-of-%d", twin), Content: "a near duplicate",
			Embedding: unitNear(rng, dim, vecs[twin], 0.01), Confidence: 0.8}, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitForEdges(t, s)
	for _, twin := range []int{10, total - 5} {
		var found bool
		for _, e := range edgesOf(t, s, fmt.Sprintf("twin-of-%d", twin)) {
			if e.target == fmt.Sprintf("m%d", twin) && e.kind == graph.KindSimilarity && e.weight > 0.95 {
				found = true
			}
		}
		if !found {
			t.Fatalf("twin of m%d: edges %+v lack a similarity edge to m%d", twin, edgesOf(t, s, fmt.Sprintf("twin-of-%d", twin)), twin)
		}
		if _, err := other.Get(fmt.Sprintf("twin-of-%d", twin)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("other space sees twin-of-%d: err = %v", twin, err)
		}
	}
	if st := s.Stats(); st.IndexedRows < hnswStartRows {
		t.Fatalf("index holds %d rows, want at least %d", st.IndexedRows, hnswStartRows)
	}
}

// TestAutoLinkAheadOfBacklog: a remember with auto_link made while the index lane is
// stopped behind a backlog is linked at once — a similarity edge to an old memory and to
// one of the backlog, temporal edges to the memories just before it — and the backlog,
// once the lane runs again, links every other memory exactly once.
func TestAutoLinkAheadOfBacklog(t *testing.T) {
	const dim = 16
	e, s, other := openVectorSpaces(t, dim)
	defer e.Close()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	vecs := rememberRandom(t, s, rng, nil, hnswStartRows+500)
	waitForEdges(t, s)

	letGo := holdIndexLane(t, s)
	vecs = rememberRandom(t, s, rng, vecs, 1000) // a backlog: edges of rows the index has not taken wait for it
	backlog := len(vecs) - 100
	for _, twin := range []int{10, backlog} {
		id := fmt.Sprintf("twin-of-%d", twin)
		wctx, cancel := context.WithTimeout(ctx, time.Minute) // a guard against hanging, not a bound
		res, err := s.Remember(wctx, Memory{ID: id, Content: "a near duplicate", Embedding: unitNear(rng, dim, vecs[twin], 0.01), Confidence: 0.8}, RememberOptions{AutoLink: true})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		reasons := map[string]string{}
		for _, l := range res.Links {
			reasons[l.TargetID] = l.Reason
		}
		if reasons[fmt.Sprintf("m%d", twin)] != "semantic_similarity" {
			t.Fatalf("%s: links %+v lack a similarity edge to m%d", id, res.Links, twin)
		}
		if twin == backlog && reasons[fmt.Sprintf("m%d", len(vecs)-1)] != "temporal_proximity" {
			t.Fatalf("%s: links %+v lack a temporal edge to the memory stored just before", id, res.Links)
		}
		if _, err := other.Get(id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("other space sees %s: err = %v", id, err)
		}
	}
	if q := s.Stats().LinkQueue; q < 1000 {
		t.Fatalf("link queue %d: the backlog is gone while the index lane was held", q)
	}
	// The backlog shows in rows, in seconds of work at the lanes' cost so far, and in the
	// larger share the lanes get; the other space lags not at all.
	if st := s.Stats(); st.IndexLag < 1000 || st.IndexLagWork <= 0 || st.LinkLagWork <= 0 || st.BackgroundShare <= BackgroundBaseShare {
		t.Fatalf("backlog stats: index lag %d rows, %v of work; link lag %v of work; share %v", st.IndexLag, st.IndexLagWork, st.LinkLagWork, st.BackgroundShare)
	}
	if st := other.Stats(); st.IndexLag != 0 || st.IndexLagWork != 0 || st.LinkLagWork != 0 || st.BackgroundShare != BackgroundBaseShare {
		t.Fatalf("other space: index lag %d rows, %v; link lag %v; share %v", st.IndexLag, st.IndexLagWork, st.LinkLagWork, st.BackgroundShare)
	}
	letGo()
	waitForEdges(t, s)
	// Linked once: the twins' turn came and went without a second set of edges.
	for _, twin := range []int{10, backlog} {
		seen := map[string]int{}
		for _, e := range edgesOf(t, s, fmt.Sprintf("twin-of-%d", twin)) {
			if seen[e.target]++; seen[e.target] > 1 {
				t.Fatalf("twin-of-%d has two edges to %s", twin, e.target)
			}
		}
	}
	// The backlog's memories got their edges from the index inserts.
	if edges := edgesOf(t, s, fmt.Sprintf("m%d", backlog+50)); len(edges) == 0 {
		t.Fatalf("m%d has no edges", backlog+50)
	}
}

// openVectorSpaces opens an engine whose spaces take dim-dimensional embeddings and have
// no built-in embedder, and returns its "default" space and a second space, "other".
func openVectorSpaces(t *testing.T, dim int) (e *Engine, s, other *Space) {
	t.Helper()
	cfg := testConfig(t, t.TempDir())
	cfg.Defaults.Dimension = dim
	cfg.EmbeddingProvider = "none"
	e = openTest(t, cfg)
	s = mustSpace(t, e, "default")
	other, _, err := e.CreateSpace("other", SpaceSettings{})
	if err != nil {
		e.Close()
		t.Fatal(err)
	}
	return e, s, other
}

// unitNear returns a random unit vector: base plus noise times a Gaussian draw per
// component, or the draw alone when base is nil.
func unitNear(rng *rand.Rand, dim int, base []float32, noise float64) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(noise * rng.NormFloat64())
		if base != nil {
			v[i] += base[i]
		}
	}
	simd.Normalize(v)
	return v
}

// rememberRandom stores n memories m<i> with random unit embeddings, i counting on from
// len(vecs), 500 per batch, and returns vecs with their embeddings appended.
func rememberRandom(t *testing.T, s *Space, rng *rand.Rand, vecs [][]float32, n int) [][]float32 {
	t.Helper()
	dim := s.Dimension()
	for n > 0 {
		batch := make([]Memory, 0, min(n, 500))
		for range cap(batch) {
			i := len(vecs)
			vecs = append(vecs, unitNear(rng, dim, nil, 1))
			batch = append(batch, Memory{ID: fmt.Sprintf("m%d", i), Content: fmt.Sprintf("memory %d", i), Embedding: vecs[i], Confidence: 0.8})
		}
		if _, errs := s.RememberBatch(context.Background(), batch, RememberOptions{}); errors.Join(errs...) != nil {
			t.Fatal(errors.Join(errs...))
		}
		n -= len(batch)
	}
	return vecs
}

// readState runs fn with s's open state read-locked.
func readState(t *testing.T, s *Space, fn func(st *state)) {
	t.Helper()
	st, err := s.acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer s.mu.RUnlock()
	st.mu.RLock()
	defer st.mu.RUnlock()
	fn(st)
}

// waitForEdges waits until no memory of s waits for edges or for the index.
func waitForEdges(t *testing.T, s *Space) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute) // a guard against hanging, not a bound
	for {
		st := s.Stats()
		if st.LinkQueue == 0 && st.IndexLag == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("background never caught up: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type testEdge struct {
	target string
	kind   graph.EdgeKind
	weight float32
}

// edgesOf lists the association edges of memory id.
func edgesOf(t *testing.T, s *Space, id string) []testEdge {
	t.Helper()
	var out []testEdge
	readState(t, s, func(st *state) {
		row, ok := st.rowOf(id)
		if !ok {
			t.Fatalf("no memory %s", id)
		}
		for _, e := range st.graph.Neighbors(row) {
			out = append(out, testEdge{target: st.byRow[e.To].m.ID, kind: e.Kind, weight: e.Weight})
		}
	})
	return out
}

// holdIndexLane stops s's index lane before its next insert until the returned function
// is called (at the latest when the test ends); calling it again does nothing.
func holdIndexLane(t *testing.T, s *Space) func() {
	t.Helper()
	st, err := s.acquire()
	if err != nil {
		t.Fatal(err)
	}
	s.mu.RUnlock()
	release := make(chan struct{})
	hold := func() { <-release }
	st.link.beforeInsert.Store(&hold)
	var once sync.Once
	letGo := func() {
		once.Do(func() {
			st.link.beforeInsert.Store(nil)
			close(release)
		})
	}
	t.Cleanup(letGo)
	return letGo
}
