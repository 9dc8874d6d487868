package assoc

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/internal/enginetest"
)

// Data sizes. The full set is what RESULTS.md reports; under -benchtime=1x (how `make
// test` runs every benchmark once) or -short the data shrinks to the small set, below the
// size at which the engine builds its HNSW index, so the run costs a few seconds.
var (
	memories = flag.Int("assoc.memories", 0, "clustered memories (default 30000; 2000 under -benchtime=1x or -short)")
	chains   = flag.Int("assoc.chains", 0, "hidden two-hop chains (default 200; 20 under -benchtime=1x or -short)")
)

const (
	dim         = 768   // a common sentence-embedding size; random directions are then nearly orthogonal
	clusterSize = 100   // memories per cluster
	clusterCos  = 0.9   // expected cosine of a clustered memory with its cluster's centre
	chainCos    = 0.75  // cos(a,b) = cos(b,c)
	cueNoise    = 0.005 // per-component noise of the cue around a
	threshold   = 0.2
)

type chain struct{ a, b, c string }

// dataset is a space filled and linked by the engine's background linker.
type dataset struct {
	eng    *engine.Engine
	space  *engine.Space
	chains []chain
	cues   [][]float32
}

func sizes(b *testing.B) (n, k int) {
	n, k = 30000, 200
	if f := flag.Lookup("test.benchtime"); testing.Short() || (f != nil && f.Value.String() == "1x") {
		n, k = 2000, 20
	}
	if *memories > 0 {
		n = *memories
	}
	if *chains > 0 {
		k = *chains
	}
	return n, k
}

func unit(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	n := float32(math.Sqrt(s))
	for i := range v {
		v[i] /= n
	}
	return v
}

func gaussian(rng *rand.Rand, sigma float64) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(sigma * rng.NormFloat64())
	}
	return v
}

// orthonormal returns a unit vector orthogonal to u.
func orthonormal(rng *rand.Rand, u []float32) []float32 {
	v := unit(gaussian(rng, 1))
	var d float32
	for i := range v {
		d += v[i] * u[i]
	}
	for i := range v {
		v[i] -= d * u[i]
	}
	return unit(v)
}

func mix(x float64, u []float32, y float64, v []float32) []float32 {
	out := make([]float32, dim)
	for i := range out {
		out[i] = float32(x)*u[i] + float32(y)*v[i]
	}
	return unit(out)
}

// build stores n clustered memories and k chains in random order through the batch path,
// then waits until the background linker has linked and indexed every one of them.
func build(b *testing.B, n, k int) *dataset {
	b.Helper()
	cfg := enginetest.Config(b, dim)
	cfg.Defaults.WALSync = "never"
	cfg.EmbeddingProvider = "none"
	eng := enginetest.Open(b, cfg)
	sp, err := eng.SpaceForWrite("assoc")
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(18, 2026))
	var ms []engine.Memory
	sigma := math.Sqrt((1/(clusterCos*clusterCos) - 1) / dim)
	var centre []float32
	for i := range n {
		if i%clusterSize == 0 {
			centre = unit(gaussian(rng, 1))
		}
		v := gaussian(rng, sigma)
		for j := range v {
			v[j] += centre[j]
		}
		ms = append(ms, engine.Memory{ID: fmt.Sprintf("m%05d", i), Content: fmt.Sprintf("clustered memory %d of topic %d", i, i/clusterSize), Embedding: unit(v), Confidence: engine.DefaultConfid})
	}
	d := &dataset{eng: eng, space: sp}
	th := math.Acos(chainCos)
	for i := range k {
		u := unit(gaussian(rng, 1))
		w := orthonormal(rng, u)
		ch := chain{fmt.Sprintf("chain%03d-a", i), fmt.Sprintf("chain%03d-b", i), fmt.Sprintf("chain%03d-c", i)}
		d.chains = append(d.chains, ch)
		for j, id := range []string{ch.a, ch.b, ch.c} {
			ms = append(ms, engine.Memory{ID: id, Content: "chain memory " + id, Embedding: mix(math.Cos(float64(j)*th), u, math.Sin(float64(j)*th), w), Confidence: engine.DefaultConfid})
		}
		cue := gaussian(rng, cueNoise)
		for j := range cue {
			cue[j] += u[j]
		}
		d.cues = append(d.cues, unit(cue))
	}
	rng.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	for len(ms) > 0 {
		part := ms[:min(len(ms), 1000)]
		ms = ms[len(part):]
		if _, errs := sp.RememberBatch(context.Background(), part, engine.RememberOptions{}); errors.Join(errs...) != nil {
			b.Fatal(errors.Join(errs...))
		}
	}
	deadline := time.Now().Add(30 * time.Minute) // a guard against hanging, not a bound
	for {
		st := sp.Stats()
		if st.LinkQueue == 0 && st.IndexLag == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the background linker never caught up: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return d
}

// outcome is what one recall of chain i returned.
type outcome struct {
	reached        bool // c returned, scored by spreading along a path ending b -> c
	returnedC      bool // c returned at all
	associated     int  // memories in associated
	associatedMine int  // of those, members of the queried chain
}

func judge(res engine.RecallResult, ch chain) outcome {
	var o outcome
	for _, group := range [][]engine.Hit{res.Vivid, res.Associated, res.Reconstructed} {
		for _, h := range group {
			if h.Memory.ID != ch.c {
				continue
			}
			o.returnedC = true
			p := h.Path
			o.reached = !h.Direct && len(p) >= 2 && p[len(p)-2] == ch.b && p[len(p)-1] == ch.c
		}
	}
	for _, h := range res.Associated {
		o.associated++
		if h.Memory.ID == ch.a || h.Memory.ID == ch.b || h.Memory.ID == ch.c {
			o.associatedMine++
		}
	}
	return o
}

func percentile(xs []time.Duration, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(math.Ceil(p*float64(len(s))))-1)]
}

// BenchmarkAssociativeRecall: one op is a pass over every chain, recalling it once in
// hybrid and once in similarity mode, the order alternating from chain to chain so that
// neither mode always runs on a warmer cache. Recalls leave access statistics alone
// (NoReinforce) so that every pass sees the same space. Reported, over all passes:
//
//   - reached-%: chains whose c came back scored by spreading along a path ending b -> c
//     (hybrid); similarity-reached-%: chains whose c came back at all in similarity mode;
//   - assoc-chain-%: the share of hybrid's associated memories that belong to the queried
//     chain;
//   - hybrid-p50-us, hybrid-p99-us, similarity-p50-us, similarity-p99-us and
//     p99-ratio (hybrid p99 / similarity p99).
func BenchmarkAssociativeRecall(b *testing.B) {
	n, k := sizes(b)
	d := build(b, n, k)
	defer d.eng.Close()
	ctx := context.Background()
	var hyb, sim []time.Duration
	var reached, simReached, assoc, assocMine, queries int
	recall := func(i int, mode engine.RecallMode) engine.RecallResult {
		start := time.Now()
		res, err := d.space.Recall(ctx, engine.Cue{Embedding: d.cues[i], Mode: mode, Threshold: threshold, NoReinforce: true})
		took := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if mode == engine.ModeSimilarity {
			sim = append(sim, took)
		} else {
			hyb = append(hyb, took)
		}
		return res
	}
	b.ResetTimer()
	for pass := 0; b.Loop(); pass++ {
		for i, ch := range d.chains {
			var h, s engine.RecallResult
			if (i+pass)%2 == 0 {
				h = recall(i, engine.ModeHybrid)
				s = recall(i, engine.ModeSimilarity)
			} else {
				s = recall(i, engine.ModeSimilarity)
				h = recall(i, engine.ModeHybrid)
			}
			oh, os := judge(h, ch), judge(s, ch)
			queries++
			if oh.reached {
				reached++
			}
			if os.returnedC {
				simReached++
			}
			assoc += oh.associated
			assocMine += oh.associatedMine
		}
	}
	b.StopTimer()
	share := func(x, of int) float64 {
		if of == 0 {
			return 0
		}
		return 100 * float64(x) / float64(of)
	}
	us := func(t time.Duration) float64 { return float64(t.Nanoseconds()) / 1000 }
	b.ReportMetric(share(reached, queries), "reached-%")
	b.ReportMetric(share(simReached, queries), "similarity-reached-%")
	b.ReportMetric(share(assocMine, assoc), "assoc-chain-%")
	b.ReportMetric(us(percentile(hyb, 0.5)), "hybrid-p50-us")
	b.ReportMetric(us(percentile(hyb, 0.99)), "hybrid-p99-us")
	b.ReportMetric(us(percentile(sim, 0.5)), "similarity-p50-us")
	b.ReportMetric(us(percentile(sim, 0.99)), "similarity-p99-us")
	if p := percentile(sim, 0.99); p > 0 {
		b.ReportMetric(float64(percentile(hyb, 0.99))/float64(p), "p99-ratio")
	}
	b.ReportMetric(float64(n+3*k), "memories")
}
