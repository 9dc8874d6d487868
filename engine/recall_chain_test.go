package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/engram-go/engram/engine/graph"
	"github.com/engram-go/engram/engine/record"
)

// The chain of docs/spreading-activation.md's worked example: a at 0°, b at 41.4°, c at
// 82.8° in one plane, so cos(a,b) = cos(b,c) = 0.75 and cos(a,c) = 0.125; d is a weak
// direct match of a (cos 0.15) with no association at all.
const chainDim = 64

func chainVectors() map[string][]float32 {
	th := math.Acos(0.75)
	d2 := float32(math.Sqrt(1 - 0.15*0.15))
	return map[string][]float32{
		"a": zeroPadded(chainDim, 1),
		"b": zeroPadded(chainDim, float32(math.Cos(th)), float32(math.Sin(th))),
		"c": zeroPadded(chainDim, float32(math.Cos(2*th)), float32(math.Sin(2*th))),
		"d": zeroPadded(chainDim, 0.15, 0, d2),
	}
}

// fillerVector is a random unit vector orthogonal to the chain's plane and to d: a
// memory no cue of these tests matches and no chain memory links to.
func fillerVector(rng *rand.Rand) []float32 {
	v := unitNear(rng, chainDim, nil, 1)
	v[0], v[1], v[2] = 0, 0, 0
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v
}

// chainSpace builds the chain in a space whose tiers are small (tierConfig): c ends up in
// cold, b in warm, a and d in hot, among fillers. Demotion takes the least recently
// active memories, so recalls that refresh a (and b while it should stay hot) steer it,
// whenever the checkpoints run (remember starts one when the hot tier is full). Memories
// are observed 15 minutes apart, more than the temporal window, so the only edges of the
// chain are the similarity edges a–b and b–c.
func chainSpace(t *testing.T, cfg Config) (*Engine, *Space) {
	t.Helper()
	e := openTest(t, cfg)
	s := mustSpace(t, e, "default")
	ctx := context.Background()
	v := chainVectors()
	now := time.Now().UTC()
	at := now.Add(-1 * time.Hour)
	rng := rand.New(rand.NewPCG(3, 4))
	old := now.Add(-72 * time.Hour)
	fillers := 0
	filler := func() {
		old = old.Add(15 * time.Minute)
		m := Memory{ID: fmt.Sprintf("f%03d", fillers), Content: "filler", Embedding: fillerVector(rng), Confidence: 0.9, ObservedAt: old}
		fillers++
		if _, err := s.Remember(ctx, m, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	remember := func(id string) {
		at = at.Add(15 * time.Minute)
		m := Memory{ID: id, Content: "chain " + id, Embedding: v[id], Confidence: 0.9, ObservedAt: at}
		if _, err := s.Remember(ctx, m, RememberOptions{AutoLink: true, LinkThreshold: 0.7}); err != nil {
			t.Fatal(err)
		}
	}
	touch := func(threshold float32) { // refreshes a, and b too at 0.5
		if _, err := s.Recall(ctx, Cue{Embedding: v["a"], Mode: ModeSimilarity, Threshold: threshold}); err != nil {
			t.Fatal(err)
		}
	}
	tier := func(id string) Tier {
		m, err := s.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		return m.Tier
	}
	for _, id := range []string{"c", "b", "a"} {
		remember(id)
	}
	for i := 0; tier("c") != TierCold; i++ { // c alone is left to age
		if i == 300 {
			t.Fatal("c never reached the cold tier")
		}
		filler()
		if i%3 == 2 {
			touch(0.5)
		}
		if i%10 == 9 {
			checkpointNow(t, s)
		}
	}
	for i := 0; tier("b") != TierWarm; i++ { // now b ages too
		if i == 100 {
			t.Fatal("b never reached the warm tier")
		}
		filler()
		if i%3 == 2 {
			touch(0.9)
		}
		checkpointNow(t, s)
	}
	remember("d")
	waitForEdges(t, s)
	checkTiers(t, s)
	return e, s
}

func checkTiers(t *testing.T, s *Space) {
	t.Helper()
	for id, want := range map[string]Tier{"a": TierHot, "b": TierWarm, "c": TierCold, "d": TierHot} {
		if m, err := s.Get(id); err != nil || m.Tier != want {
			t.Fatalf("%s: tier %v (err %v), the fixture wants %v", id, m.Tier, err, want)
		}
	}
}

// recalled is what a test checks of one hit.
type recalled struct {
	group string // vivid, associated or reconstructed
	path  string // "direct" or "spreading: x -> y"
}

func summarize(res RecallResult) map[string]recalled {
	out := map[string]recalled{}
	for _, g := range []struct {
		name string
		hits []Hit
	}{{"vivid", res.Vivid}, {"associated", res.Associated}, {"reconstructed", res.Reconstructed}} {
		for _, h := range g.hits {
			p := "direct"
			if !h.Direct {
				p = "spreading: " + fmt.Sprint(h.Path)
			}
			out[h.Memory.ID] = recalled{group: g.name, path: p}
		}
	}
	return out
}

// TestRecallChainModes is the three cases of docs/spreading-activation.md on the chain,
// with b in warm and c in cold, before and after a restart: c is reached only through b
// at threshold 0.2 and is labelled by the path that scored it; direct is said only when
// the direct match gave the score; similarity mode never reaches c through edges; the
// three modes give three different answers.
func TestRecallChainModes(t *testing.T) {
	cfg := tierConfig(t, t.TempDir())
	cfg.Defaults.Dimension = chainDim
	cfg.EmbeddingProvider = "none"
	e, s := chainSpace(t, cfg)
	other := mustSpace(t, e, "other-space")

	spreadC := recalled{"associated", "spreading: [b c]"}
	tests := []struct {
		name      string
		mode      RecallMode
		threshold float32
		want      map[string]recalled
	}{
		{"hybrid reaches c only through b", ModeHybrid, 0.2, map[string]recalled{
			"a": {"vivid", "direct"}, "b": {"vivid", "direct"}, "c": spreadC}},
		{"hybrid scores c by its activation, not its weaker direct match", ModeHybrid, 0.1, map[string]recalled{
			"a": {"vivid", "direct"}, "b": {"vivid", "direct"}, "c": spreadC, "d": {"associated", "direct"}}},
		{"similarity never reaches c", ModeSimilarity, 0.2, map[string]recalled{
			"a": {"vivid", "direct"}, "b": {"vivid", "direct"}}},
		{"similarity finds c only by its own direct match", ModeSimilarity, 0.1, map[string]recalled{
			"a": {"vivid", "direct"}, "b": {"vivid", "direct"}, "c": {"associated", "direct"}, "d": {"associated", "direct"}}},
		{"spreading answers from associations: d is no seed and has no edge", ModeSpreading, 0.1, map[string]recalled{
			"a": {"vivid", "direct"}, "b": {"vivid", "direct"}, "c": spreadC}},
	}
	check := func(t *testing.T, s *Space) {
		ctx := context.Background()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res, err := s.Recall(ctx, Cue{Embedding: chainVectors()["a"], Mode: tt.mode, Threshold: tt.threshold, Trace: true, NoReinforce: true})
				if err != nil {
					t.Fatal(err)
				}
				if got := summarize(res); !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got  %v\nwant %v", got, tt.want)
				}
				for _, h := range allHits(res) {
					if h.Memory.ID != "c" || h.Direct {
						continue
					}
					// 0.75 (b's similarity, its seed activation) × 0.75 (edge b–c) × 0.5.
					if math.Abs(float64(h.Activation)-0.28125) > 1e-3 || math.Abs(float64(h.Similarity)-0.125) > 1e-3 {
						t.Fatalf("c: activation %v similarity %v, want 0.28125 and 0.125", h.Activation, h.Similarity)
					}
				}
				traces := map[string][]string{}
				for _, tr := range res.Traces {
					traces[tr.MemoryID] = tr.Path
				}
				for id, r := range tt.want {
					want := []string{id}
					if r.path == spreadC.path {
						want = []string{"b", "c"}
					}
					if !reflect.DeepEqual(traces[id], want) {
						t.Fatalf("trace of %s: %v, want %v", id, traces[id], want)
					}
				}
			})
		}
		if res, err := other.Recall(ctx, Cue{Embedding: chainVectors()["a"], Threshold: 0.01}); err != nil || len(allHits(res)) != 0 {
			t.Fatalf("other space recalls %d memories (err %v)", len(allHits(res)), err)
		}
	}
	check(t, s)
	e.Close()

	e = openTest(t, cfg)
	defer e.Close()
	s = mustSpace(t, e, "default")
	other = mustSpace(t, e, "other-space")
	checkTiers(t, s)
	t.Run("after restart", func(t *testing.T) { check(t, s) })
}

// TestSpreadAndAssociations: the engine API the query language and the associations route
// use. Spread from a reaches b in one hop and c in two, with the paths; Associations lists
// b's two edges; neither sees across spaces.
func TestSpreadAndAssociations(t *testing.T) {
	cfg := tierConfig(t, t.TempDir())
	cfg.Defaults.Dimension = chainDim
	cfg.EmbeddingProvider = "none"
	e, s := chainSpace(t, cfg)
	defer e.Close()
	other := mustSpace(t, e, "other-space")
	ctx := context.Background()

	acts, err := s.Spread(ctx, []string{"a"}, SpreadParams{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Activation{
		{ID: "b", Level: 0.375, Hops: 1, Path: []string{"a", "b"}},
		{ID: "c", Level: 0.140625, Hops: 2, Path: []string{"a", "b", "c"}},
	}
	if len(acts) != len(want) {
		t.Fatalf("Spread = %+v, want %+v", acts, want)
	}
	for i := range want {
		g, w := acts[i], want[i]
		if g.ID != w.ID || g.Hops != w.Hops || !reflect.DeepEqual(g.Path, w.Path) || math.Abs(float64(g.Level-w.Level)) > 1e-3 {
			t.Fatalf("Spread[%d] = %+v, want %+v", i, g, w)
		}
	}
	if one, err := s.Spread(ctx, []string{"a"}, SpreadParams{MaxHops: 1}); err != nil || len(one) != 1 || one[0].ID != "b" {
		t.Fatalf("Spread with max_hops 1 = %+v, %v", one, err)
	}

	assoc, err := s.Associations("b")
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(assoc, func(i, j int) bool { return assoc[i].TargetID < assoc[j].TargetID })
	if len(assoc) != 2 || assoc[0].TargetID != "a" || assoc[1].TargetID != "c" {
		t.Fatalf("associations of b: %+v", assoc)
	}
	for _, a := range assoc {
		if a.Kind != "similarity" || math.Abs(float64(a.Weight)-0.75) > 1e-3 {
			t.Fatalf("association %+v: want a similarity edge of weight 0.75", a)
		}
	}
	if d, err := s.Associations("d"); err != nil || len(d) != 0 {
		t.Fatalf("associations of d: %+v, %v", d, err)
	}

	bad := []struct {
		name string
		err  error
		call func() error
	}{
		{"spread from an unknown id", ErrNotFound, func() error { _, err := s.Spread(ctx, []string{"nope"}, SpreadParams{}); return err }},
		{"spread from nothing", ErrInvalidInput, func() error { _, err := s.Spread(ctx, nil, SpreadParams{}); return err }},
		{"spread with too many hops", ErrInvalidInput, func() error { _, err := s.Spread(ctx, []string{"a"}, SpreadParams{MaxHops: 99}); return err }},
		{"spread with decay above 1", ErrInvalidInput, func() error { _, err := s.Spread(ctx, []string{"a"}, SpreadParams{Decay: 2}); return err }},
		{"associations of an unknown id", ErrNotFound, func() error { _, err := s.Associations("nope"); return err }},
		{"other space: associations of b", ErrNotFound, func() error { _, err := other.Associations("b"); return err }},
		{"other space: spread from a", ErrNotFound, func() error { _, err := other.Spread(ctx, []string{"a"}, SpreadParams{}); return err }},
	}
	for _, tt := range bad {
		if err := tt.call(); !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
	}

	if err := s.Forget(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if assoc, err := s.Associations("b"); err != nil || len(assoc) != 1 || assoc[0].TargetID != "a" {
		t.Fatalf("associations of b after forgetting c: %+v, %v", assoc, err)
	}
}

// TestIsolatedChainsAmongClusters: chains of isolated memories among enough clustered ones
// that the HNSW index answers searches. Every chain gets both of its edges from the
// background linker (the exact comparison with sparse rows backs up the index's search),
// and a recall by a cue near a reaches c through b at threshold 0.2, while similarity
// mode never does. Another space sees none of it.
func TestIsolatedChainsAmongClusters(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a space past the size at which the index answers")
	}
	const dim, chains = 32, 8
	e, s, other := openVectorSpaces(t, dim)
	defer e.Close()
	rng := rand.New(rand.NewPCG(22, 18))
	// Clusters live in dimensions 0-15; chain i in the plane of dimensions 16+2i and 17+2i,
	// orthogonal to every cluster and every other chain.
	var ms []Memory
	var centre []float32
	for i := range hnswMinRows + 500 {
		if i%50 == 0 {
			centre = unitNear(rng, 16, nil, 1)
		}
		v := make([]float32, dim)
		copy(v, unitNear(rng, 16, centre, 0.08))
		ms = append(ms, Memory{ID: fmt.Sprintf("m%05d", i), Content: "clustered", Embedding: v, Confidence: 0.7})
	}
	th := math.Acos(0.75)
	for i := range chains {
		for j, id := range []string{"a", "b", "c"} {
			v := make([]float32, dim)
			v[16+2*i], v[17+2*i] = float32(math.Cos(float64(j)*th)), float32(math.Sin(float64(j)*th))
			ms = append(ms, Memory{ID: fmt.Sprintf("chain%d-%s", i, id), Content: "chain", Embedding: v, Confidence: 0.7})
		}
	}
	rng.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	for len(ms) > 0 {
		part := ms[:min(len(ms), 1000)]
		ms = ms[len(part):]
		if _, errs := s.RememberBatch(context.Background(), part, RememberOptions{}); errors.Join(errs...) != nil {
			t.Fatal(errors.Join(errs...))
		}
	}
	waitForEdges(t, s)
	readState(t, s, func(st *state) {
		if !st.indexAnswers(len(st.byRow)) {
			t.Fatal("the index does not answer: the test does not exercise the approximate search")
		}
	})
	ctx := context.Background()
	for i := range chains {
		id := func(x string) string { return fmt.Sprintf("chain%d-%s", i, x) }
		assoc, err := s.Associations(id("b"))
		if err != nil {
			t.Fatal(err)
		}
		var targets []string
		for _, a := range assoc {
			if a.Kind == "similarity" {
				targets = append(targets, a.TargetID)
			}
		}
		sort.Strings(targets)
		if !reflect.DeepEqual(targets, []string{id("a"), id("c")}) {
			t.Fatalf("similarity edges of %s: %v, want %s and %s", id("b"), targets, id("a"), id("c"))
		}
		cue := make([]float32, dim)
		cue[16+2*i] = 1
		for _, mode := range []RecallMode{ModeHybrid, ModeSimilarity} {
			res, err := s.Recall(ctx, Cue{Embedding: cue, Mode: mode, Threshold: 0.2, NoReinforce: true})
			if err != nil {
				t.Fatal(err)
			}
			got := summarize(res)[id("c")]
			want := recalled{"associated", fmt.Sprint("spreading: ", []string{id("b"), id("c")})}
			if mode == ModeSimilarity {
				want = recalled{}
			}
			if got != want {
				t.Fatalf("mode %d: %s recalled as %+v, want %+v", mode, id("c"), got, want)
			}
		}
		if res, err := other.Recall(ctx, Cue{Embedding: cue, Threshold: 0}); err != nil || len(allHits(res)) != 0 {
			t.Fatalf("other space recalls %d memories (err %v)", len(allHits(res)), err)
		}
	}
}

// TestSparseRows: rows linked to fewer than sparseLinks similar memories are remembered
// (at most maxSparse, the most recent); they are offered for exact comparison only while
// at most sparseShareMax of the recent rows were sparse; and withSparse scores a row
// against each of them exactly.
func TestSparseRows(t *testing.T) {
	sim := func(n int) []record.Link {
		var out []record.Link
		for range n {
			out = append(out, record.Link{Kind: uint8(graph.KindSimilarity), Weight: 0.9})
		}
		return append(out, record.Link{Kind: uint8(graph.KindTemporal), Weight: 0.3}) // never counts
	}
	plan := func(row uint32, similar int) planned {
		return planned{job: &linkJob{row: row}, links: sim(similar)}
	}
	tests := []struct {
		name  string
		plans []planned
		want  []uint32 // nil: gated off
	}{
		{"dense rows only", []planned{plan(1, 2), plan(2, 5)}, []uint32{}},
		{"one sparse among four", []planned{plan(1, 0), plan(2, 5), plan(3, 2), plan(4, 3)}, []uint32{1}},
		{"a row with one similar memory is sparse", []planned{plan(1, 1), plan(2, 5), plan(3, 5), plan(4, 5), plan(5, 5)}, []uint32{1}},
		{"half sparse: no structure, gated off", []planned{plan(1, 0), plan(2, 0), plan(3, 5), plan(4, 5)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l linker
			l.noteSparse(tt.plans)
			got := l.sparseRows()
			if tt.want == nil {
				if got != nil {
					t.Fatalf("sparseRows = %v, want nil (gated)", got)
				}
				return
			}
			if got == nil {
				got = []uint32{}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("sparseRows = %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("at most maxSparse, the most recent", func(t *testing.T) {
		var l linker
		var plans []planned
		for r := range maxSparse + 10 {
			plans = append(plans, plan(uint32(r), 0))
		}
		for r := range 100 * maxSparse { // dense rows keep the share low
			plans = append(plans, plan(uint32(maxSparse+10+r), 5))
		}
		l.noteSparse(plans)
		got := l.sparseRows()
		if len(got) != maxSparse || got[0] != 10 || got[len(got)-1] != maxSparse+9 {
			t.Fatalf("kept %d rows from %d to %d", len(got), got[0], got[len(got)-1])
		}
	})

	t.Run("withSparse compares exactly", func(t *testing.T) {
		e, s, _ := openVectorSpaces(t, 4)
		defer e.Close()
		for id, v := range map[string][]float32{"p": {1, 0, 0, 0}, "q": {0.6, 0.8, 0, 0}, "r": {0, 0, 1, 0}} {
			if _, err := s.Remember(context.Background(), Memory{ID: id, Content: id, Embedding: v, Confidence: 0.7}, RememberOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		waitForEdges(t, s)
		st, err := s.acquire()
		if err != nil {
			t.Fatal(err)
		}
		defer s.mu.RUnlock()
		st.mu.RLock()
		p, _ := st.rowOf("p")
		q, _ := st.rowOf("q")
		r, _ := st.rowOf("r")
		st.mu.RUnlock()
		st.link.mu.Lock()
		st.link.sparse, st.link.linkedSeen, st.link.sparseSeen = []uint32{q, r}, 100, 2
		st.link.mu.Unlock()
		got := st.link.withSparse(p, nil)
		if len(got) != 2 || got[0].Row != q || math.Abs(float64(got[0].Score)-0.6) > 1e-6 || got[1].Row != r || got[1].Score != 0 {
			t.Fatalf("withSparse = %+v, want q at 0.6 then r at 0", got)
		}
	})
}

// TestRemeasure: a memory spreading reached, whose direct similarity the (approximate)
// search did not measure, gets it measured exactly; when that makes it a seed, remeasure
// says so, and the measured similarity is what recall then scores it by.
func TestRemeasure(t *testing.T) {
	e, s, _ := openVectorSpaces(t, 4)
	defer e.Close()
	for id, v := range map[string][]float32{"p": {1, 0, 0, 0}, "q": {0.8, 0.6, 0, 0}, "r": {0, 0, 1, 0}} {
		if _, err := s.Remember(context.Background(), Memory{ID: id, Content: id, Embedding: v, Confidence: 0.7}, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	readState(t, s, func(st *state) {
		p, _ := st.rowOf("p")
		q, _ := st.rowOf("q")
		r, _ := st.rowOf("r")
		cue := []float32{1, 0, 0, 0}
		tests := []struct {
			name     string
			reached  []uint32
			wantSeed bool
			wantSim  map[uint32]float32
		}{
			{"an unmeasured strong match becomes a seed", []uint32{q}, true, map[uint32]float32{q: 0.8}},
			{"an unmeasured weak match does not", []uint32{r}, false, map[uint32]float32{r: 0}},
		}
		for _, tt := range tests {
			cands := map[uint32]*candidate{p: {row: p, sim: 1, measured: true}}
			get := func(row uint32) *candidate {
				if cands[row] == nil {
					cands[row] = &candidate{row: row}
				}
				return cands[row]
			}
			var nodes []graph.Activated
			for _, n := range tt.reached {
				nodes = append(nodes, graph.Activated{Node: n, Activation: 0.3, Hops: 1, Path: []uint32{p, n}})
			}
			if got := st.remeasure(nodes, cands, get, cue, pickSeeds(cands)); got != tt.wantSeed {
				t.Errorf("%s: remeasure = %v, want %v", tt.name, got, tt.wantSeed)
			}
			for row, want := range tt.wantSim {
				if c := cands[row]; c == nil || !c.measured || math.Abs(float64(c.sim-want)) > 1e-6 {
					t.Errorf("%s: candidate %d = %+v, want measured similarity %v", tt.name, row, c, want)
				}
			}
		}
	})
}
