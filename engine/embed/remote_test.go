package embed

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// fakeProvider speaks one provider's wire format. Its vector for a text has the text's
// length in component 0 and 1 in component 1, so answers can be matched to texts.
type fakeProvider struct {
	t        *testing.T
	provider string
	dim      int
	// fail, when set, answers a request instead of the normal answer (status, body,
	// Retry-After); returning status 0 answers normally.
	fail func(n int) (int, string, string)
	// block holds every request until the client gives up.
	block bool
	// gate, when set, holds every request until it receives.
	gate chan struct{}

	mu       sync.Mutex
	requests []map[string]any
	headers  []http.Header
	inFlight atomic.Int32
	maxIn    atomic.Int32
}

func (f *fakeProvider) vector(text string) []float32 {
	v := make([]float32, f.dim)
	v[0], v[1] = float32(len(text)), 1
	return v
}

func (f *fakeProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxIn.Load()
		if in <= m || f.maxIn.CompareAndSwap(m, in) {
			break
		}
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("request body: %v", err)
	}
	f.mu.Lock()
	f.requests = append(f.requests, body)
	f.headers = append(f.headers, r.Header.Clone())
	n := len(f.requests)
	f.mu.Unlock()
	if f.block {
		<-r.Context().Done()
		return
	}
	if f.gate != nil {
		<-f.gate
	}
	if f.fail != nil {
		if status, msg, after := f.fail(n); status != 0 {
			if after != "" {
				w.Header().Set("Retry-After", after)
			}
			w.WriteHeader(status)
			if f.provider == ProviderOllama {
				json.NewEncoder(w).Encode(map[string]any{"error": msg})
			} else {
				json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error"}})
			}
			return
		}
	}
	var texts []string
	for _, x := range body["input"].([]any) {
		texts = append(texts, x.(string))
	}
	w.Header().Set("Content-Type", "application/json")
	if f.provider == ProviderOllama {
		var embs [][]float32
		for _, s := range texts {
			embs = append(embs, f.vector(s))
		}
		json.NewEncoder(w).Encode(map[string]any{"model": body["model"], "embeddings": embs})
		return
	}
	// OpenAI lists data with their index; the fake lists them backwards to prove the client
	// orders by index, not by position.
	var data []map[string]any
	for i := len(texts) - 1; i >= 0; i-- {
		data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": f.vector(texts[i])})
	}
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": body["model"],
		"usage": map[string]int{"prompt_tokens": 1, "total_tokens": 1}})
}

func newFake(t *testing.T, provider string, dim int) (*fakeProvider, *httptest.Server) {
	f := &fakeProvider{t: t, provider: provider, dim: dim}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strings.Repeat("x", i+1)
	}
	return out
}

var providers = []struct{ name, path string }{{ProviderOpenAI, "/v1/embeddings"}, {ProviderOllama, "/api/embed"}}

func TestRemoteRequestShapeAndBatching(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			f, srv := newFake(t, p.name, 8)
			set := metrics.NewSet()
			b, err := NewRemote(Config{Provider: p.name, URL: srv.URL + p.path, Model: "m1", Dimensions: 8, APIKey: "sk-test",
				BatchSize: 4, Concurrency: 2}, 8, srv.Client(), NewMetrics(set, p.name))
			if err != nil {
				t.Fatal(err)
			}
			in := texts(10)
			vecs, err := b.EmbedBatch(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range vecs {
				if int(v[0]) != len(in[i]) {
					t.Fatalf("vector %d is for a text of length %v, want %d", i, v[0], len(in[i]))
				}
			}
			if len(f.requests) != 3 {
				t.Fatalf("%d requests for 10 texts in batches of 4, want 3", len(f.requests))
			}
			sizes := map[int]int{}
			for i, req := range f.requests {
				sizes[len(req["input"].([]any))]++
				if req["model"] != "m1" {
					t.Errorf("request %d: model %v", i, req["model"])
				}
				if h := f.headers[i]; h.Get("Authorization") != "Bearer sk-test" || h.Get("Content-Type") != "application/json" {
					t.Errorf("request %d: headers %v", i, h)
				}
				if p.name == ProviderOpenAI && (req["encoding_format"] != "float" || req["dimensions"] != float64(8)) {
					t.Errorf("OpenAI request %d: %v", i, req)
				}
			}
			if sizes[4] != 2 || sizes[2] != 1 {
				t.Fatalf("batch sizes %v, want two of 4 and one of 2", sizes)
			}
			if f.maxIn.Load() > 2 {
				t.Fatalf("%d requests in flight, concurrency is 2", f.maxIn.Load())
			}
			var sb strings.Builder
			set.WritePrometheus(&sb)
			if !strings.Contains(sb.String(), `engram_embedding_request_seconds_count{provider="`+p.name+`"} 3`) ||
				!strings.Contains(sb.String(), `engram_embedding_queue{provider="`+p.name+`"} 0`) {
				t.Fatalf("metrics:\n%s", sb.String())
			}
		})
	}
}

func TestRemoteErrors(t *testing.T) {
	for _, p := range providers {
		for _, tc := range []struct {
			name     string
			fail     func(n int) (int, string, string)
			dim      int // the fake's; the client expects 8
			want     error
			wantText string
			requests int
		}{
			{"bad key", func(int) (int, string, string) { return 401, "Incorrect API key provided", "" }, 8, ErrProvider, "Incorrect API key", 1},
			{"unknown model", func(int) (int, string, string) { return 404, `model "m1" not found`, "" }, 8, ErrProvider, "not found", 1},
			{"wrong dimension", nil, 4, ErrProvider, "4-dimensional", 1},
			{"429 then fine", func(n int) (int, string, string) {
				if n == 1 {
					return 429, "Rate limit reached", "0"
				}
				return 0, "", ""
			}, 8, nil, "", 2},
			{"503 until the retries run out", func(int) (int, string, string) { return 503, "overloaded", "" }, 8, ErrUnavailable, "HTTP 503", 3},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				f, srv := newFake(t, p.name, tc.dim)
				f.fail = tc.fail
				set := metrics.NewSet()
				b, err := NewRemote(Config{Provider: p.name, URL: srv.URL + p.path, Model: "m1", MaxRetries: 2}, 8, srv.Client(), NewMetrics(set, p.name))
				if err != nil {
					t.Fatal(err)
				}
				_, err = b.EmbedBatch(context.Background(), texts(3))
				if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				if err != nil && !strings.Contains(err.Error(), tc.wantText) {
					t.Fatalf("err %q does not say %q", err, tc.wantText)
				}
				if len(f.requests) != tc.requests {
					t.Fatalf("%d requests, want %d", len(f.requests), tc.requests)
				}
			})
		}
	}
}

func TestRemoteTimeoutAndDown(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name+"/slow", func(t *testing.T) {
			f, srv := newFake(t, p.name, 8)
			f.block = true
			b, err := NewRemote(Config{Provider: p.name, URL: srv.URL + p.path, Model: "m1", Timeout: 50 * time.Millisecond, MaxRetries: -1}, 8, srv.Client(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.EmbedBatch(context.Background(), texts(2)); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("slow provider: %v", err)
			}
		})
		t.Run(p.name+"/down", func(t *testing.T) {
			_, srv := newFake(t, p.name, 8)
			url := srv.URL + p.path
			srv.Close()
			b, err := NewRemote(Config{Provider: p.name, URL: url, Model: "m1", MaxRetries: 1}, 8, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.EmbedBatch(context.Background(), texts(2)); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("provider down: %v", err)
			}
		})
	}
}

func TestRemoteNeedsModel(t *testing.T) {
	if _, err := NewRemote(Config{Provider: ProviderOpenAI}, 8, nil, nil); err == nil || !strings.Contains(err.Error(), "model") {
		t.Fatalf("no model: %v", err)
	}
}

// TestRemoteCoalescesSmallCalls: single-text calls made while every request slot is busy
// wait together and go to the provider as one request when a slot frees.
func TestRemoteCoalescesSmallCalls(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			f, srv := newFake(t, p.name, 8)
			f.gate = make(chan struct{})
			m := NewMetrics(metrics.NewSet(), p.name)
			b, err := NewRemote(Config{Provider: p.name, URL: srv.URL + p.path, Model: "m1", BatchSize: 16, Concurrency: 1}, 8, srv.Client(), m)
			if err != nil {
				t.Fatal(err)
			}
			const callers = 9
			in := texts(callers)
			got := make([][][]float32, callers)
			errs := make([]error, callers)
			var wg sync.WaitGroup
			call := func(i int) {
				defer wg.Done()
				got[i], errs[i] = b.EmbedBatch(context.Background(), in[i:i+1])
			}
			wg.Add(1)
			go call(0)
			for f.inFlight.Load() == 0 { // the first call holds the only slot
				time.Sleep(time.Millisecond)
			}
			for i := 1; i < callers; i++ {
				wg.Add(1)
				go call(i)
			}
			for m.pending.Load() != callers { // everyone is queued
				time.Sleep(time.Millisecond)
			}
			close(f.gate)
			wg.Wait()
			for i := range got {
				if errs[i] != nil || len(got[i]) != 1 || int(got[i][0][0]) != len(in[i]) {
					t.Fatalf("caller %d: %v %v", i, got[i], errs[i])
				}
			}
			if len(f.requests) != 2 || len(f.requests[1]["input"].([]any)) != callers-1 {
				t.Fatalf("%d requests (%v), want the first alone and the 8 others together", len(f.requests), f.requests)
			}
		})
	}
}
