package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engram-go/engram/engine/embed"
)

// providerLatency is the answer time of the fake provider of BenchmarkIngestEmbedding,
// per request whatever its size: a local model on a GPU, or a nearby hosted endpoint.
const providerLatency = 20 * time.Millisecond

// slowModel answers /v1/embeddings after providerLatency with the built-in embedder's
// vectors, so that the benchmark's only difference from hash is the provider round trip.
// requests and texts count what it was sent.
func slowModel(dim int, requests, texts *atomic.Int64) http.Handler {
	h := embed.NewHash(dim)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Input []string }
		_ = json.NewDecoder(r.Body).Decode(&req)
		requests.Add(1)
		texts.Add(int64(len(req.Input)))
		time.Sleep(providerLatency)
		type item struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		out := struct {
			Data []item `json:"data"`
		}{}
		for i, s := range req.Input {
			v := make([]float32, dim)
			h.Embed(s, v)
			out.Data = append(out.Data, item{i, v})
		}
		_ = json.NewEncoder(w).Encode(out)
	})
}

// BenchmarkIngestEmbedding stores b.N text-only memories into one space with the built-in
// embedder (hash) and with an OpenAI-compatible provider answering in 20 ms per request
// (batch_size 64, concurrency 4), in the same process: as batches of 64 (the batch route,
// an import) and as single remembers from 64 concurrent callers (many clients). memories/s
// is the figure; compare the providers within one run only.
func BenchmarkIngestEmbedding(b *testing.B) {
	var requests, texts atomic.Int64
	srv := httptest.NewServer(slowModel(384, &requests, &texts))
	defer srv.Close()
	for _, load := range []string{"batches-of-64", "single-x64-callers"} {
		for _, provider := range []string{"hash", "openai-20ms"} {
			b.Run(load+"/"+provider, func(b *testing.B) {
				cfg := testConfig(b, b.TempDir())
				cfg.Defaults.Dimension = 384
				if provider != "hash" {
					cfg.Embedding = embed.Config{Provider: embed.ProviderOpenAI, URL: srv.URL, Model: "bench", BatchSize: 64, Concurrency: 4}
				}
				e := openTest(b, cfg)
				defer e.Close()
				s := mustSpace(b, e, "bench")
				var next atomic.Int64
				content := func() string {
					n := next.Add(1)
					return fmt.Sprintf("memory %d about topic %d, subject %d and detail %d", n, n%97, n%13, n%7)
				}
				requests.Store(0)
				texts.Store(0)
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
				if r := requests.Load(); r > 0 {
					b.ReportMetric(float64(texts.Load())/float64(r), "texts/request")
				}
			})
		}
	}
}
