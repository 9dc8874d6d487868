package engine

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engram-go/engram/engine/embed"
	"github.com/engram-go/engram/engine/embed/embedtest"
)

// providerLatency is the answer time of the fake provider of BenchmarkIngestEmbedding,
// per request whatever its size: a local model on a GPU, or a nearby hosted endpoint. Its
// vectors are the built-in embedder's, so the only difference from hash is the round trip.
const providerLatency = 20 * time.Millisecond

// BenchmarkIngestEmbedding stores b.N text-only memories into one space with the built-in
// embedder (hash) and with an OpenAI-compatible provider answering in 20 ms per request
// (batch_size 64, concurrency 4), in the same process: as batches of 64 (the batch route,
// an import) and as single remembers from 64 concurrent callers (many clients). memories/s
// is the figure; compare the providers within one run only.
func BenchmarkIngestEmbedding(b *testing.B) {
	model := embedtest.New(384)
	model.Latency = providerLatency
	srv := httptest.NewServer(model)
	defer srv.Close()
	for _, load := range []string{"batches-of-64", "single-x64-callers"} {
		for _, provider := range []string{"hash", "openai-20ms"} {
			b.Run(load+"/"+provider, func(b *testing.B) {
				cfg := testConfig(b, b.TempDir())
				cfg.Defaults.Dimension = 384
				if provider != "hash" {
					cfg.Embedding = embed.Config{Provider: embed.ProviderOpenAI, URL: srv.URL + "/v1/embeddings", Model: "bench", BatchSize: 64, Concurrency: 4}
				}
				e := openTest(b, cfg)
				defer e.Close()
				s := mustSpace(b, e, "bench")
				var next atomic.Int64
				content := func() string {
					n := next.Add(1)
					return fmt.Sprintf("memory %d about topic %d, subject %d and detail %d", n, n%97, n%13, n%7)
				}
				model.Requests.Store(0)
				model.Texts.Store(0)
				b.ResetTimer()
				start := time.Now()
				if load == "batches-of-64" {
					for done := 0; done < b.N; done += 64 {
						ms := make([]Memory, min(64, b.N-done))
						for i := range ms {
							ms[i] = Memory{Content: content(), Confidence: 0.7}
						}
						if _, errs := s.RememberBatch(context.Background(), ms, RememberOptions{}); errs[0] != nil {
							b.Fatal(errs[0])
						}
					}
				} else {
					var wg sync.WaitGroup
					for w := 0; w < 64; w++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for next.Load() < int64(b.N) {
								if _, err := s.Remember(context.Background(), Memory{Content: content(), Confidence: 0.7}, RememberOptions{}); err != nil {
									b.Error(err)
									return
								}
							}
						}()
					}
					wg.Wait()
				}
				b.ReportMetric(float64(next.Load())/time.Since(start).Seconds(), "memories/s")
				if r := model.Requests.Load(); r > 0 {
					b.ReportMetric(float64(model.Texts.Load())/float64(r), "texts/request")
				}
			})
		}
	}
}
