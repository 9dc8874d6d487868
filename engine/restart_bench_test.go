package engine

import (
	"context"
	"errors"
	"flag"
	"math/rand"
	"testing"
	"time"

	"github.com/engram-go/engram/internal/cputime"
)

var restartRows = flag.Int("engine.restartrows", 20000, "memories in the restart benchmark space (1000000 for the documented figure)")

// BenchmarkRestart opens a checkpointed space of linked memories, written at engine level,
// alternately from its derived files and by rebuilding what they hold from the memories
// (the path before derived files, and the one a damaged file takes; its vector index is
// then rebuilt in the background after the open, which is not timed), and reports both
// rates in memories of history per second and their ratio, measured in the same run, and
// the CPU time of the process per open on each path (which moves far less than the wall
// time on a shared machine). The space size is -engine.restartrows.
func BenchmarkRestart(b *testing.B) {
	n := *restartRows
	root := b.TempDir()
	cfg := testConfig(b, root)
	cfg.Defaults = SpaceSettings{Dimension: 16, WALSync: "never", HotCapacity: n, WarmCapacity: 10 * n, ColdCapacity: 100 * n}
	cfg.EmbeddingProvider = "none"
	e := openTest(b, cfg)
	s := mustSpace(b, e, "bench")
	ctx := context.Background()
	r := rand.New(rand.NewSource(4))
	for done := 0; done < n; done += 1000 {
		batch := make([]Memory, min(1000, n-done))
		for i := range batch {
			batch[i] = Memory{Content: benchSentence(r), Confidence: 0.5, Embedding: zeroPadded(16, r.Float32(), r.Float32(), r.Float32(), 1)}
		}
		for {
			_, errs := s.RememberBatch(ctx, batch, RememberOptions{})
			err := errors.Join(errs...)
			if err == nil {
				break
			}
			if !errors.Is(err, ErrOverloaded) { // the linker's backlog is full: let it drain
				b.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for s.Stats().LinkQueue > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	checkpointNow(b, s)
	edges := s.Stats().Edges
	if err := e.Close(); err != nil {
		b.Fatal(err)
	}
	var took, cpu [2]time.Duration // [0] derived files, [1] rebuilt
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for path, rebuild := range []bool{false, true} {
			c := cfg
			c.rebuildDerived = rebuild
			cpu0, _ := cputime.Process()
			start := time.Now()
			e := openTest(b, c)
			took[path] += time.Since(start)
			cpu1, _ := cputime.Process()
			cpu[path] += cpu1 - cpu0
			b.StopTimer()
			got := mustSpace(b, e, "bench").Stats()
			if got.Memories != n || got.Edges != edges {
				b.Fatalf("rebuild=%v: opened %d memories and %d edges, want %d and %d", rebuild, got.Memories, got.Edges, n, edges)
			}
			if !rebuild && n >= hnswStartRows && got.IndexedRows != n {
				// Rebuilding, the index lane starts over after the open; loaded, it is whole.
				b.Fatalf("opened from derived files with %d rows in the vector index, want %d", got.IndexedRows, n)
			}
			if err := e.Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	derived := float64(b.N) * float64(n) / took[0].Seconds()
	rebuilt := float64(b.N) * float64(n) / took[1].Seconds()
	b.ReportMetric(derived, "memories/s")
	b.ReportMetric(rebuilt, "rebuilt-memories/s")
	b.ReportMetric(derived/rebuilt, "x-rebuild")
	if cpu[0] > 0 {
		b.ReportMetric(cpu[0].Seconds()*1e3/float64(b.N), "cpu-ms/open")
		b.ReportMetric(cpu[1].Seconds()*1e3/float64(b.N), "rebuilt-cpu-ms/open")
	}
}
