package httpapi

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/valyala/fasthttp"
)

// recallBenchRows sizes the space of BenchmarkHTTPRecall. The default keeps a -benchtime=1x
// run short; 100000 gives the figure comparable with engine's BenchmarkRecallHybrid at
// -engine.recallrows=100000.
var recallBenchRows = flag.Int("httpapi.recallrows", 5000, "memories in the BenchmarkHTTPRecall space")

var recallBenchWords = []string{"river", "mountain", "protein", "cell", "market", "engine", "violin", "orbit", "garden", "harbor",
	"winter", "library", "circuit", "forest", "memory", "signal", "glacier", "theory", "canvas", "kernel"}

// BenchmarkHTTPRecall drives GET /api/v1/memories/recall (hybrid: vector, lexical and
// spreading activation; 768-d vectors from the built-in embedder; max_results=10) in-process
// over keep-alive connections of an in-memory listener, against a space of
// -httpapi.recallrows memories whose association edges have all been built. clients=1
// gives the latency a single caller sees (compare with engine's BenchmarkRecallHybrid:
// the difference is the HTTP frontend); clients=16 the throughput under load. Both report
// req/s and the p50 and p99 latency in milliseconds.
func BenchmarkHTTPRecall(b *testing.B) {
	ts := newTestServer(b, withEngine(func(c *engine.Config) {
		c.Defaults = engine.SpaceSettings{Dimension: 768, WALSync: "never", HotCapacity: *recallBenchRows + 1}
	}))
	fillRecallSpace(b, ts.eng, *recallBenchRows)
	r := rand.New(rand.NewPCG(8, 9))
	uris := make([]string, 256)
	for i := range uris {
		q := recallBenchWords[r.IntN(len(recallBenchWords))] + " " + recallBenchWords[r.IntN(len(recallBenchWords))]
		uris[i] = "http://engram.test/api/v1/memories/recall?max_results=10&query=" + url.QueryEscape(q)
	}
	client := &fasthttp.HostClient{
		Addr:     "engram.test",
		Dial:     func(string) (net.Conn, error) { return ts.ln.Dial() },
		MaxConns: 64,
	}
	for _, clients := range []int{1, 16} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			benchRecallClients(b, client, uris, clients)
		})
	}
}

func benchRecallClients(b *testing.B, client *fasthttp.HostClient, uris []string, clients int) {
	var next, failed atomic.Int64
	lats := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rq, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(rq)
			defer fasthttp.ReleaseResponse(resp)
			rq.Header.SetMethod(fasthttp.MethodGet)
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				rq.SetRequestURI(uris[i%int64(len(uris))])
				t0 := time.Now()
				err := client.Do(rq, resp)
				lats[c] = append(lats[c], time.Since(t0))
				if err != nil || resp.StatusCode() != 200 {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d recalls failed", n, b.N)
	}
	all := slices.Concat(lats...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
}

// fillRecallSpace stores n sentences in the default space in batches of 1000 and waits
// until their association edges and approximate index have caught up, so the benchmark
// measures steady-state recall.
func fillRecallSpace(b *testing.B, eng *engine.Engine, n int) {
	b.Helper()
	s, err := eng.SpaceForWrite(engine.DefaultSpace)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(6, 7))
	ctx := context.Background()
	for done := 0; done < n; {
		batch := make([]engine.Memory, 0, 1000)
		for i := 0; i < 1000 && done+i < n; i++ {
			words := make([]byte, 0, 96)
			for w := range 6 + r.IntN(6) {
				if w > 0 {
					words = append(words, ' ')
				}
				words = append(words, recallBenchWords[r.IntN(len(recallBenchWords))]...)
			}
			batch = append(batch, engine.Memory{Content: string(words), Confidence: 0.5 + 0.5*r.Float32()})
		}
		_, errs := s.RememberBatch(ctx, batch, engine.RememberOptions{})
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		done += len(batch)
	}
	for s.Stats().LinkQueue > 0 {
		time.Sleep(20 * time.Millisecond)
	}
}
