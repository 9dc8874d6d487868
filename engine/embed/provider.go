package embed

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Provider names.
const (
	ProviderHash   = "hash"
	ProviderNone   = "none"
	ProviderOpenAI = "openai"
	ProviderOllama = "ollama"
)

// Errors of the remote providers. A caller maps ErrUnavailable (down, slow, overloaded,
// answering 5xx or 429 past the retries) to "try again later"; ErrProvider is an answer
// that retrying cannot fix (a wrong key, an unknown model, vectors of the wrong length).
var (
	ErrUnavailable = errors.New("embed: embedding provider unavailable")
	ErrProvider    = errors.New("embed: embedding provider refused the request")
)

// Defaults of a remote provider.
const (
	DefaultBatchSize   = 64
	DefaultTimeout     = 30 * time.Second
	DefaultConcurrency = 4
	DefaultMaxRetries  = 3
	DefaultOpenAIURL   = "https://api.openai.com/v1/embeddings"
	DefaultOllamaURL   = "http://127.0.0.1:11434/api/embed"
)

// Config chooses and tunes a provider. Zero fields take the defaults above.
type Config struct {
	Provider   string // hash (default), none, openai or ollama
	URL        string // the full endpoint: …/v1/embeddings or …/api/embed
	Model      string // required for openai and ollama
	Dimensions int    // sent to OpenAI as "dimensions" when set
	APIKey     string // sent as a bearer token when set (resolved from an environment variable by the caller)
	BatchSize  int    // texts per request
	Timeout    time.Duration
	// Concurrency bounds the requests in flight to the provider from one space.
	Concurrency int
	// MaxRetries is how many times a request answered 429 or 5xx, or not answered, is sent
	// again (honouring Retry-After), within Timeout.
	MaxRetries int
}

// Remote reports whether the provider is reached over the network.
func (c Config) Remote() bool { return c.Provider == ProviderOpenAI || c.Provider == ProviderOllama }

// Model is what a space records about the provider that made its vectors.
type Model struct {
	Provider  string `json:"provider"`
	Model     string `json:"model"`
	Dimension int    `json:"dimension"`
}

func (m Model) String() string {
	if m.Model == "" {
		return fmt.Sprintf("%s (dimension %d)", m.Provider, m.Dimension)
	}
	return fmt.Sprintf("%s model %q (dimension %d)", m.Provider, m.Model, m.Dimension)
}

// ModelOf is the model a configuration makes vectors with at dimension dim.
func ModelOf(c Config, dim int) Model {
	p := c.Provider
	if p == "" {
		p = ProviderHash
	}
	m := Model{Provider: p, Dimension: dim}
	if c.Remote() {
		m.Model = c.Model
	}
	return m
}

// Batcher embeds many texts per call. Implementations are safe for concurrent use.
type Batcher interface {
	// Dim is the length of every vector returned.
	Dim() int
	// BatchSize is how many texts go to the provider in one request.
	BatchSize() int
	// EmbedBatch returns one vector per text, in order, or an error wrapping ErrUnavailable
	// or ErrProvider; it sends BatchSize texts per request, Concurrency requests at a time.
	EmbedBatch(ctx context.Context, texts []string) ([][]float32, error)
}

// Metrics are a provider's figures: request latency, failed requests, and the queue of
// texts waiting for an embedding (in a request or waiting for a request slot).
type Metrics struct {
	Latency *metrics.Histogram
	Errors  *metrics.Counter
	pending atomic.Int64
}

// NewMetrics registers the metrics of provider name in set. Build one per provider name
// and share it between the spaces using it.
func NewMetrics(set *metrics.Set, name string) *Metrics {
	l := fmt.Sprintf(`{provider=%q}`, name)
	m := &Metrics{
		Latency: set.NewHistogram("engram_embedding_request_seconds" + l),
		Errors:  set.NewCounter("engram_embedding_errors_total" + l),
	}
	set.NewGauge("engram_embedding_queue"+l, func() float64 { return float64(m.pending.Load()) })
	return m
}

// NewRemote builds the client of an openai or ollama provider producing dim-long vectors.
// hc is shared by every space; m may be nil.
func NewRemote(c Config, dim int, hc *http.Client, m *Metrics) (Batcher, error) {
	if !c.Remote() {
		return nil, fmt.Errorf("embed: %q is not a remote provider", c.Provider)
	}
	if strings.TrimSpace(c.Model) == "" {
		return nil, fmt.Errorf("embed: provider %s needs a model", c.Provider)
	}
	if c.URL == "" {
		c.URL = DefaultOpenAIURL
		if c.Provider == ProviderOllama {
			c.URL = DefaultOllamaURL
		}
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	} else if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	r := &remote{cfg: c, dim: dim, hc: hc, m: m, slots: make(chan struct{}, c.Concurrency)}
	r.wire = openAIWire{}
	if c.Provider == ProviderOllama {
		r.wire = ollamaWire{}
	}
	return r, nil
}
