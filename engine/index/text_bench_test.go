package index_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/engram-go/engram/engine/embed"
	"github.com/engram-go/engram/engine/index"
	"github.com/engram-go/engram/internal/cputime"
)

// BenchmarkHNSWInsertText inserts b.N rows of 768 dimensions made by the built-in
// embedder from short texts, with the engine's construction beam (64): what the index lane
// spends per text-only memory. "loadgen" texts are the load generator's remember bodies
// (256 of them, so most rows repeat an earlier one); "distinct" texts all differ. The
// figure is CPU per insert averaged over the whole build: use -benchtime Nx to choose the
// index size.
func BenchmarkHNSWInsertText(b *testing.B) {
	const dim = 768
	words := []string{"weather", "mountains", "storm", "valley", "sunny", "ridge", "fog", "river"}
	for _, texts := range []string{"loadgen", "distinct"} {
		b.Run("texts="+texts, func(b *testing.B) {
			h := embed.NewHash(dim)
			rng := rand.New(rand.NewPCG(1, 2))
			vecs := make([]float32, b.N*dim)
			for i := range b.N {
				n := i
				if texts == "loadgen" {
					n = i % 256
				}
				h.Embed(fmt.Sprintf("loadgen memory %d about the %s and the %s", n, words[rng.IntN(len(words))], words[rng.IntN(len(words))]), vecs[i*dim:(i+1)*dim])
			}
			g := index.NewHNSW(dim, index.HNSWConfig{Seed: 1, EfConstruction: 64}, func(r uint32) []float32 { return vecs[int(r)*dim : (int(r)+1)*dim] })
			b.ResetTimer()
			cpu0, cpuOK := cputime.Process()
			for i := range b.N {
				g.Insert(uint32(i))
			}
			b.StopTimer()
			if cpu1, ok := cputime.Process(); ok && cpuOK {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
