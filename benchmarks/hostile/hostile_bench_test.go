package hostile

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/httpapi"
	"github.com/engram-go/engram/internal/enginetest"
	"github.com/valyala/fasthttp/fasthttputil"
)

// bodyBytes is the size of every hostile body: the default [limits] max_body_bytes, less
// room for the framing.
const bodyBytes = 8<<20 - 1024

// fill returns prefix, unit repeated to about bodyBytes, and suffix; a unit ending in ','
// loses its last comma.
func fill(prefix, unit, suffix string) []byte {
	n := (bodyBytes - len(prefix) - len(suffix)) / len(unit)
	b := append([]byte(prefix), strings.Repeat(unit, n)...)
	if strings.HasSuffix(unit, ",") {
		b = b[:len(b)-1]
	}
	return append(b, suffix...)
}

var shapes = []struct {
	name, path, contentType string
	body                    []byte
}{
	{"recall_unknown_field", "/api/v1/memories/recall", "", fill(`{"query":"x","junk":[`, "0,", `]}`)},
	{"remember_unknown_field", "/api/v1/memories/remember", "", fill(`{"content":"x","junk":[`, "0,", `]}`)},
	{"space_create_unknown_field", "/api/v1/spaces", "", fill(`{"id":"bomb","junk":[`, "0,", `]}`)},
	{"batch_item_unknown_field", "/api/v1/memories/batch", "", fill(`[{"content":"x","junk":[`, "0,", `]}]`)},
	{"batch_of_zeros", "/api/v1/memories/batch", "", fill(`[`, "0,", `]`)},
	{"ndjson_of_zeros", "/api/v1/memories/batch", "application/x-ndjson", fill(``, "0\n", ``)},
	{"million_keys", "/api/v1/memories/remember", "", fill(`{"content":"x",`, `"k":0,`, `}`)},
	{"long_embedding", "/api/v1/memories/remember", "", fill(`{"content":"x","embedding":[`, "0,", `]}`)},
}

// heapPeak samples the live heap every 100µs until stopped and keeps its maximum.
type heapPeak struct {
	max  atomic.Uint64
	stop chan struct{}
	done sync.WaitGroup
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func liveHeap(s []metrics.Sample) uint64 {
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startPeak() *heapPeak {
	p := &heapPeak{stop: make(chan struct{})}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		s := []metrics.Sample{{Name: heapMetric}}
		t := time.NewTicker(100 * time.Microsecond)
		defer t.Stop()
		for {
			if h := liveHeap(s); h > p.max.Load() {
				p.max.Store(h)
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *heapPeak) end() uint64 {
	close(p.stop)
	p.done.Wait()
	return p.max.Load()
}

// BenchmarkHostileBody serves each shape in process (an engine and the HTTP frontend on
// an in-memory listener, defaults as `engram start` has them) and reports the request's
// bytes allocated (B/op, the whole process: client and server) and peak-heap-MiB, how far
// the live heap rose above its level before the loop.
func BenchmarkHostileBody(b *testing.B) {
	quiet := enginetest.QuietLogger()
	eng := enginetest.Open(b, enginetest.Config(b, 8))
	srv, err := httpapi.New(frontend.Options{Engine: eng, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	ln := fasthttputil.NewInmemoryListener()
	if err := srv.ServeOn(ln, ""); err != nil {
		b.Fatal(err)
	}
	defer srv.Stop(context.Background())
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) { return ln.Dial() },
	}}
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			ct := sh.contentType
			if ct == "" {
				ct = "application/json"
			}
			s := []metrics.Sample{{Name: heapMetric}}
			runtime.GC()
			base := liveHeap(s)
			peak := startPeak()
			b.SetBytes(int64(len(sh.body)))
			b.ReportAllocs()
			for b.Loop() {
				req, err := http.NewRequest(http.MethodPost, "http://engram"+sh.path, bytes.NewReader(sh.body))
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Content-Type", ct)
				req.Header.Set("X-Memory-Space", "bombed")
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 500 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			top := peak.end()
			rise := float64(0)
			if top > base {
				rise = float64(top-base) / (1 << 20)
			}
			b.ReportMetric(rise, "peak-heap-MiB")
		})
	}
}
