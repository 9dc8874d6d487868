package httpapi

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/internal/vecjson"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"
)

// rememberBody is a realistic remember body: a sentence, tags and a 768-float embedding.
func rememberBody(rng *rand.Rand, dim int, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"content":"benchmark memory %d about the weather in the mountains","confidence":0.8,"tags":["bench","weather"],"memory_type":"episodic","embedding":[`, n)
	for i := 0; i < dim; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%.6f", rng.Float64()*2-1)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// rememberJSON is the same body for encoding/json, converted to the same rememberInput.
type rememberJSON struct {
	Content       string    `json:"content"`
	Embedding     []float32 `json:"embedding"`
	Confidence    *float32  `json:"confidence"`
	Timestamp     string    `json:"timestamp"`
	ID            string    `json:"id"`
	Tags          []string  `json:"tags"`
	MemoryType    string    `json:"memory_type"`
	AutoLink      bool      `json:"auto_link"`
	LinkThreshold *float32  `json:"link_threshold"`
	MemorySpace   string    `json:"memory_space"`
	MemorySpaceID string    `json:"memory_space_id"`
}

func decodeRememberStd(body []byte, in *rememberInput) error {
	var r rememberJSON
	if err := json.Unmarshal(body, &r); err != nil {
		return err
	}
	in.mem.Content, in.mem.Embedding, in.mem.ID, in.mem.Tags = r.Content, r.Embedding, r.ID, r.Tags
	if r.Confidence != nil {
		in.mem.Confidence, in.confidenceSet = *r.Confidence, true
	}
	if r.Timestamp != "" {
		t, err := parseTime(r.Timestamp)
		if err != nil {
			return err
		}
		in.mem.ObservedAt = t
	}
	t, err := engine.ParseMemoryType(r.MemoryType)
	if err != nil {
		return err
	}
	in.mem.Type = t
	in.opts.AutoLink = r.AutoLink
	if r.LinkThreshold != nil {
		in.opts.LinkThreshold = *r.LinkThreshold
	}
	in.space, err = bodySpace(r.MemorySpace, r.MemorySpaceID)
	return err
}

// BenchmarkDecodeRemember justifies the remember body's decoder: most of the body is the
// embedding. "read_ahead" is the request path (parseMemoryJSON: the embedding in one pass,
// the rest with fastjson); "fastjson" lets fastjson read it all; "encoding_json" is the
// standard library's reflection decoder.
func BenchmarkDecodeRemember(b *testing.B) {
	body := rememberBody(rand.New(rand.NewPCG(1, 2)), 768, 1)
	for _, tc := range []struct {
		name      string
		readAhead bool
	}{{"read_ahead", true}, {"fastjson", false}} {
		b.Run(tc.name, func(b *testing.B) {
			var pp fastjson.ParserPool
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				p := pp.Get()
				var in rememberInput
				var v *fastjson.Value
				var err error
				if tc.readAhead {
					v, in.vec, err = parseMemoryJSON(p, body, nil, 0)
				} else {
					v, err = parseJSON(p, body, 0)
				}
				if err != nil {
					b.Fatal(err)
				}
				if err := decodeRemember(v, engine.MaxContentBytes, &in); err != nil {
					b.Fatal(err)
				}
				if len(in.mem.Embedding) != 768 {
					b.Fatalf("decoded %d floats", len(in.mem.Embedding))
				}
				pp.Put(p)
			}
		})
	}
	b.Run("encoding_json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var in rememberInput
			if err := decodeRememberStd(body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestDecodersAgree keeps the benchmark honest: both decoders read the same memory.
func TestDecodersAgree(t *testing.T) {
	body := rememberBody(rand.New(rand.NewPCG(3, 4)), 16, 7)
	var fast, std rememberInput
	v, err := fastjson.ParseBytes(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeRemember(v, engine.MaxContentBytes, &fast); err != nil {
		t.Fatal(err)
	}
	if err := decodeRememberStd(body, &std); err != nil {
		t.Fatal(err)
	}
	if fast.mem.Content != std.mem.Content || fast.mem.Confidence != std.mem.Confidence || len(fast.mem.Embedding) != len(std.mem.Embedding) {
		t.Fatalf("decoders disagree: %+v vs %+v", fast.mem, std.mem)
	}
	for i := range fast.mem.Embedding {
		if fast.mem.Embedding[i] != std.mem.Embedding[i] {
			t.Fatalf("embedding[%d]: %v vs %v", i, fast.mem.Embedding[i], std.mem.Embedding[i])
		}
	}
}

// BenchmarkHTTPRemember drives POST /api/v1/memories/remember in-process with 768-float
// embeddings and durability on (wal_sync = always), over keep-alive connections of an
// in-memory listener, and reports requests per second.
func BenchmarkHTTPRemember(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	pre := make([][]byte, 64)
	for i := range pre {
		pre[i] = rememberBody(rng, 768, i)
	}
	benchHTTPRemember(b, pre)
}

// BenchmarkHTTPRememberText is BenchmarkHTTPRemember with bodies that carry no embedding:
// the space's built-in embedder makes each 768-d vector from the content.
func BenchmarkHTTPRememberText(b *testing.B) {
	pre := make([][]byte, 64)
	for i := range pre {
		pre[i] = fmt.Appendf(nil, `{"content":"benchmark memory %d about the weather in the mountains","confidence":0.8,"tags":["bench","weather"]}`, i)
	}
	benchHTTPRemember(b, pre)
}

// benchHTTPRemember posts the bodies pre, in turn, to a durable 768-d in-process server.
func benchHTTPRemember(b *testing.B, pre [][]byte) {
	ts := newTestServer(b, withEngine(func(c *engine.Config) {
		c.Defaults = engine.SpaceSettings{Dimension: 768, WALSync: "always", HotCapacity: 10_000_000}
	}))
	bodies := int64(len(pre))
	client := &fasthttp.HostClient{
		Addr:     "engram.test",
		Dial:     func(string) (net.Conn, error) { return ts.ln.Dial() },
		MaxConns: 1024,
	}
	var next, failed atomic.Int64
	b.SetParallelism(32) // many concurrent writers share each group commit
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		rq, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(rq)
		defer fasthttp.ReleaseResponse(resp)
		rq.SetRequestURI("http://engram.test/api/v1/memories/remember")
		rq.Header.SetMethod(fasthttp.MethodPost)
		rq.Header.SetContentType("application/json")
		for pb.Next() {
			rq.SetBody(pre[next.Add(1)%bodies])
			if err := client.Do(rq, resp); err != nil || resp.StatusCode() != 201 {
				failed.Add(1)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d remembers failed", n, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}

// FuzzDecodeRemember feeds arbitrary bodies to the remember decoder: it must reject or
// accept, never panic, and what it accepts must satisfy the documented rules.
func FuzzDecodeRemember(f *testing.F) {
	for _, seed := range []string{
		`{"content":"x"}`,
		`{"content":"x","embedding":[1,2,3],"confidence":0.5,"tags":["a"],"timestamp":"2024-01-01T00:00:00Z"}`,
		`{"content":"x","embedding":[NaN]}`,
		`{"content":null,"memory_space":"abc","memory_space_id":"abc"}`,
		`{"what":"w","when":"2024-01-01T00:00:00Z","who":"solo"}`,
		`[]`, `"str"`, `{"content":"\u2028\ud800"}`,
		`{"content":"x","confidence":01}`, `{"content":"x","confidence":.5}`, `{"content":"x","embedding":[+1]}`,
		`{"content":"x","embedding":[0,0,0]}`, `{"content":" x ","memory_space":" abc ","memory_space_id":"abc"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var p fastjson.Parser
		v, err := parseJSON(&p, body, maxParsedValues(len(body)))
		if err != nil {
			return
		}
		var in rememberInput
		if err := decodeRemember(v, 1024, &in); err == nil {
			if strings.TrimSpace(in.mem.Content) == "" || len(in.mem.Content) > 1024 {
				t.Fatalf("accepted content %q", in.mem.Content)
			}
			if !(in.mem.Confidence >= 0 && in.mem.Confidence <= 1) {
				t.Fatalf("accepted confidence %v", in.mem.Confidence)
			}
			for i, x := range in.mem.Embedding {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("accepted embedding[%d] = %v", i, x)
				}
			}
		}
		var ep rememberInput
		_ = decodeEpisode(v, 1024, &ep)
	})
}

// BenchmarkDecodeBatchArray decodes a JSON array of 100 768-d memories: "elements" is the
// request path (vecjson.Elements, each embedding read ahead), "whole" lets fastjson parse
// the array at once.
func BenchmarkDecodeBatchArray(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	body := []byte{'['}
	for i := range 100 {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, rememberBody(rng, 768, i)...)
	}
	body = append(body, ']')
	s := &Server{opts: frontend.Options{MaxContentBytes: engine.MaxContentBytes, MaxBatchItems: 1000}}
	b.Run("elements", func(b *testing.B) {
		var p fastjson.Parser
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			elems, _, ok := vecjson.Elements(body, 1000)
			if !ok {
				b.Fatal("not split")
			}
			items, err := s.decodeElements(&p, body, elems, nil)
			if err != nil || len(items) != 100 || items[99].err != nil {
				b.Fatal("not decoded")
			}
		}
	})
	b.Run("whole", func(b *testing.B) {
		var p fastjson.Parser
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			v, err := parseJSON(&p, body, 0)
			if err != nil {
				b.Fatal(err)
			}
			for _, item := range v.GetArray() {
				var in rememberInput
				if err := decodeRemember(item, engine.MaxContentBytes, &in); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
