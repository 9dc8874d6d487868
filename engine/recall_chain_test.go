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
)

// The chain of docs/spreading-activation.md's worked example: a at 0°, b at 41.4°, c at
// 82.8° in one plane, so cos(a,b) = cos(b,c) = 0.75 and cos(a,c) = 0.125; d is a weak
// direct match of a (cos 0.15) with no association at all.
const chainDim = 64

func chainVectors() map[string][]float32 {
	th := math.Acos(0.75)
	d2 := float32(math.Sqrt(1 - 0.15*0.15))
	return map[string][]float32{
		"a": vec(chainDim, 1),
		"b": vec(chainDim, float32(math.Cos(th)), float32(math.Sin(th))),
		"c": vec(chainDim, float32(math.Cos(2*th)), float32(math.Sin(2*th))),
		"d": vec(chainDim, 0.15, 0, d2),
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
