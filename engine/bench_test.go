package engine

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var recallRows = flag.Int("engine.recallrows", 10000, "memories in the recall benchmark space (100000 for the documented figure)")

var benchWords = []string{"river", "mountain", "protein", "cell", "market", "engine", "violin", "orbit", "garden", "harbor",
	"winter", "library", "circuit", "forest", "memory", "signal", "glacier", "theory", "canvas", "kernel",
	"bridge", "desert", "planet", "rhythm", "copper", "sailor", "lantern", "meadow", "quartz", "falcon"}

func benchSentence(r *rand.Rand) string {
	n := 6 + r.Intn(6)
	s := ""
	for i := 0; i < n; i++ {
		if i > 0 {
			s += " "
		}
		s += benchWords[r.Intn(len(benchWords))]
		if r.Intn(3) == 0 {
			s += fmt.Sprint(r.Intn(500))
		}
	}
	return s
}

// fillSpace remembers n generated memories through the batch path and waits until their
// edges and index have caught up, so the benchmark measures steady-state recall.
func fillSpace(b *testing.B, s *Space, n int) {
	b.Helper()
	r := rand.New(rand.NewSource(1))
	ctx := context.Background()
	for done := 0; done < n; {
		batch := make([]Memory, 0, 1000)
		for i := 0; i < 1000 && done+i < n; i++ {
			batch = append(batch, Memory{Content: benchSentence(r), Confidence: 0.5 + 0.5*r.Float32()})
		}
		_, errs := s.RememberBatch(ctx, batch, RememberOptions{})
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		done += len(batch)
	}
	for {
		st := s.Stats()
		if st.LinkQueue == 0 && (n < hnswStartRows || st.IndexedRows >= n-n/100) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recallBench opens an engine with one space of -engine.recallrows memories whose hot tier
// holds hot of them, and the two-word queries a recall benchmark asks.
func recallBench(b *testing.B, hot int) (*Engine, *Space, []string) {
	cfg := testConfig(b, b.TempDir())
	cfg.Defaults = SpaceSettings{Dimension: 768, WALSync: "never", HotCapacity: hot}
	e := openTest(b, cfg)
	s := mustSpace(b, e, "bench")
	fillSpace(b, s, *recallRows)
	r := rand.New(rand.NewSource(2))
	queries := make([]string, 256)
	for i := range queries {
		queries[i] = benchWords[r.Intn(len(benchWords))] + " " + benchWords[r.Intn(len(benchWords))]
	}
	return e, s, queries
}

// BenchmarkRecallHybrid measures recall latency (hybrid: vector + lexical + spreading) and
// reports p50/p99. The space size is -engine.recallrows.
func BenchmarkRecallHybrid(b *testing.B) {
	e, s, queries := recallBench(b, *recallRows+1)
	defer e.Close()
	lat := make([]time.Duration, 0, b.N)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := s.Recall(ctx, Cue{Query: queries[i%len(queries)], Threshold: 0.3, NoReinforce: true}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(*recallRows), "memories")
}

// BenchmarkRemember measures durable remembers through the engine with 1 and 64
// concurrent callers (group commit shares fsyncs between them).
func BenchmarkRemember(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			cfg := testConfig(b, b.TempDir())
			cfg.Defaults = SpaceSettings{Dimension: 768}
			e := openTest(b, cfg)
			defer e.Close()
			s := mustSpace(b, e, "bench")
			r := rand.New(rand.NewSource(3))
			contents := make([]string, 1024)
			for i := range contents {
				contents[i] = benchSentence(r)
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						if _, err := s.Remember(context.Background(), Memory{Content: contents[i%1024], Confidence: 0.7}, RememberOptions{}); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "memories/s")
		})
	}
}

// BenchmarkRememberEmbedded measures the foreground cost of a remember shaped like an HTTP
// one: a short text and a client 768-d embedding, from 64 writers. With wal_sync "never" no
// writer waits for an fdatasync, so the figure is the CPU path (ns/op is wall time per
// memory with both CPUs busy); "always" adds the group commit.
func BenchmarkRememberEmbedded(b *testing.B) { benchEmbedded(b, 64, 1, 5, 256) }

// BenchmarkRememberBatch measures the batch route's engine half: calls of 100 memories with
// a short text and a client 768-d embedding each, from 8 callers (the load generator's batch
// run). An iteration is one memory. With wal_sync "never" the figure is the CPU path.
func BenchmarkRememberBatch(b *testing.B) { benchEmbedded(b, 8, 100, 6, 1024) }

// benchEmbedded runs callers that remember memories with a short text and one of vectors
// random 768-d embeddings, batch of them a call (Remember when batch is 1), with either sync
// mode. An iteration is one memory.
func benchEmbedded(b *testing.B, callers, batch int, seed int64, vectors int) {
	const dim = 768
	r := rand.New(rand.NewSource(seed))
	vecs := make([][]float32, vectors)
	for i := range vecs {
		vecs[i] = make([]float32, dim)
		for j := range vecs[i] {
			vecs[i][j] = r.Float32()*2 - 1
		}
	}
	for _, mode := range []string{"never", "always"} {
		b.Run("wal_sync="+mode, func(b *testing.B) {
			cfg := testConfig(b, b.TempDir())
			cfg.Defaults = SpaceSettings{Dimension: dim, WALSync: mode}
			e := openTest(b, cfg)
			defer e.Close()
			s := mustSpace(b, e, "bench")
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range callers {
				wg.Go(func() {
					ms := make([]Memory, 0, batch)
					for {
						first := next.Add(int64(batch)) - int64(batch)
						if first >= int64(b.N) {
							return
						}
						ms = ms[:0]
						for i := first; i < min(first+int64(batch), int64(b.N)); i++ {
							ms = append(ms, Memory{Content: fmt.Sprintf("bench memory %d about the river", i), Confidence: 0.8,
								Tags: []string{"bench"}, Embedding: vecs[i%int64(len(vecs))]})
						}
						if batch == 1 {
							if _, err := s.Remember(context.Background(), ms[0], RememberOptions{}); err != nil {
								b.Error(err)
								return
							}
							continue
						}
						_, errs := s.RememberBatch(context.Background(), ms, RememberOptions{})
						for _, err := range errs {
							if err != nil {
								b.Error(err)
								return
							}
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "memories/s")
		})
	}
}

// BenchmarkRecovery measures reopening a space of 100,000 small memories (WAL replay
// into the hot tier, lexical index and graph).
func BenchmarkRecovery(b *testing.B) {
	root := b.TempDir()
	cfg := testConfig(b, root)
	cfg.Defaults = SpaceSettings{Dimension: 16, WALSync: "never"}
	cfg.EmbeddingProvider = "none"
	e := openTest(b, cfg)
	s := mustSpace(b, e, "bench")
	const n = 100000
	ctx := context.Background()
	r := rand.New(rand.NewSource(4))
	for done := 0; done < n; done += 1000 {
		batch := make([]Memory, 1000)
		for i := range batch {
			batch[i] = Memory{Content: benchSentence(r), Confidence: 0.5, Embedding: zeroPadded(16, r.Float32(), r.Float32(), 1)}
		}
		s.RememberBatch(ctx, batch, RememberOptions{})
	}
	for s.Stats().LinkQueue > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	e.Close()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		e := openTest(b, cfg)
		e.Close()
	}
	b.ReportMetric(float64(b.N)*n/time.Since(start).Seconds(), "memories/s")
}
