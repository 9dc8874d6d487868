// Package embedtest is a fake embedding provider for tests and benchmarks: an http.Handler
// that speaks OpenAI's POST /v1/embeddings and Ollama's POST /api/embed (chosen by path)
// and answers with the built-in embedder's vectors, so that recall by text behaves as with
// provider "hash". It can be slow, down, or fail from a given request on.
package embedtest

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/engram-go/engram/engine/embed"
)

// Provider is the fake. Its fields may be changed while it serves.
type Provider struct {
	// Down makes every request answer 503.
	Down atomic.Bool
	// FailFrom makes request n (counted from 1) and every later one answer 503; 0: never.
	FailFrom atomic.Int32
	// Latency is how long each request takes before it is answered; set it before serving.
	Latency time.Duration

	// Requests counts requests; Texts counts the texts of the requests answered.
	Requests atomic.Int32
	Texts    atomic.Int64

	hash embed.Embedder
}

// New returns a provider answering vectors of length dim.
func New(dim int) *Provider { return &Provider{hash: embed.NewHash(dim)} }

func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := p.Requests.Add(1)
	if p.Down.Load() || (p.FailFrom.Load() > 0 && n >= p.FailFrom.Load()) {
		http.Error(w, `{"error":{"message":"the model is overloaded"}}`, http.StatusServiceUnavailable)
		return
	}
	var req struct {
		Model string   `json:"model"`
		Input []string `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model == "" {
		http.Error(w, `{"error":{"message":"a model and an input list are required"}}`, http.StatusBadRequest)
		return
	}
	if p.Latency > 0 {
		time.Sleep(p.Latency)
	}
	vecs := make([][]float32, len(req.Input))
	for i, s := range req.Input {
		vecs[i] = make([]float32, p.hash.Dim())
		p.hash.Embed(s, vecs[i])
	}
	p.Texts.Add(int64(len(vecs)))
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/api/embed" {
		_ = json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "embeddings": vecs})
		return
	}
	data := make([]map[string]any, len(vecs))
	for i, v := range vecs {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": v}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model})
}
