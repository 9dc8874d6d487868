package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/engram-go/engram/engine/embed"
	"github.com/engram-go/engram/internal/durable"
)

// Errors of embedding providers (docs/embeddings.md).
var (
	// ErrEmbeddingUnavailable: the space's provider could not embed a text-only memory or
	// cue (down, slow, overloaded, or refusing). Nothing of the request was stored.
	ErrEmbeddingUnavailable = errors.New("engine: embedding provider unavailable")
	// ErrModelChanged: the space holds vectors of another model than the configured one.
	ErrModelChanged = errors.New("engine: embedding model changed")
)

// modelFile records, in a space folder, the model that made the space's vectors.
const modelFile = "embedding.json"

// embeddingShared is what every space's provider client shares: one HTTP client and one
// set of metrics per provider name.
type embeddingShared struct {
	once    sync.Once
	hc      *http.Client
	mu      sync.Mutex
	metrics map[string]*embed.Metrics
}

func (e *Engine) providerMetrics(name string) *embed.Metrics {
	sh := &e.embedding
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.metrics == nil {
		sh.metrics = map[string]*embed.Metrics{}
	}
	m, ok := sh.metrics[name]
	if !ok {
		m = embed.NewMetrics(e.metrics, name)
		sh.metrics[name] = m
	}
	return m
}

func (e *Engine) embedHTTP() *http.Client {
	e.embedding.once.Do(func() { e.embedding.hc = &http.Client{} }) // timeouts come from each request's context
	return e.embedding.hc
}

// EmbeddingFor is the provider configuration of space id: its own when the configuration
// has one, else the global one.
func (c Config) EmbeddingFor(id string) embed.Config {
	if sc, ok := c.SpaceEmbedding[id]; ok {
		return sc
	}
	g := c.Embedding
	if g.Provider == "" {
		g.Provider = c.EmbeddingProvider
	}
	return g
}

// spaceEmbedding is a space's embedder: the built-in one (hash), a remote provider, or none,
// and the check that the space's vectors were made by the configured model.
type spaceEmbedding struct {
	remote embed.Batcher // nil unless the provider is openai or ollama
	model  embed.Model   // what the configuration makes vectors with
	setup  error         // a provider that could not be built

	ok      atomic.Bool // checked and serving: the hot path reads only this
	mu      sync.Mutex
	checked bool
	err     error // ErrModelChanged once checked, until re-embedded
}

// initEmbedding builds the space's embedder from the configuration.
func (s *Space) initEmbedding() {
	c := s.e.cfg.EmbeddingFor(s.id)
	s.emb.model = embed.ModelOf(c, s.settings.Dimension)
	switch {
	case c.Provider == embed.ProviderHash || c.Provider == "":
		s.embedder = embed.NewHash(s.settings.Dimension)
	case c.Remote():
		s.emb.remote, s.emb.setup = embed.NewRemote(c, s.settings.Dimension, s.e.embedHTTP(), s.e.providerMetrics(c.Provider))
	}
}

// Model is the embedding model the space's configuration makes vectors with.
func (s *Space) Model() embed.Model { return s.emb.model }

// ready checks, once per space, that its vectors come from the configured model: the model
// is recorded on first use of an empty space, and a space holding memories of another
// model refuses remembers and recalls until it is re-embedded. A space that predates the
// record was embedded by the built-in provider or by its clients (none).
func (s *Space) ready() error {
	if s.emb.ok.Load() {
		return nil
	}
	if s.emb.setup != nil {
		return fmt.Errorf("%w: space %q: %v", ErrEmbeddingUnavailable, s.id, s.emb.setup)
	}
	s.emb.mu.Lock()
	defer s.emb.mu.Unlock()
	if s.emb.checked {
		return s.emb.err
	}
	recorded, found, err := readModel(s.dir)
	if err != nil {
		return err
	}
	if !found && (s.emb.model.Provider == embed.ProviderHash || s.emb.model.Provider == embed.ProviderNone) {
		recorded, found = s.emb.model, true
		if err := writeModel(s.dir, recorded); err != nil {
			return err
		}
	}
	if !found || recorded != s.emb.model {
		if n, err := s.liveCount(); err != nil {
			return err
		} else if n > 0 {
			if !found {
				recorded = embed.Model{Provider: embed.ProviderHash, Dimension: s.settings.Dimension}
			}
			s.emb.err = fmt.Errorf("%w: memory space %q holds %d memories embedded by %s, but the configuration asks for %s; "+
				"run `engram space reembed %s` (server stopped) or configure the recorded model again",
				ErrModelChanged, s.id, n, recorded, s.emb.model, s.id)
		} else if err := writeModel(s.dir, s.emb.model); err != nil {
			return err
		}
	}
	s.emb.checked = true
	s.emb.ok.Store(s.emb.err == nil)
	return s.emb.err
}

// liveCount is the number of live memories, from the recovered state.
func (s *Space) liveCount() (int, error) {
	st, err := s.acquire()
	if err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.live, nil
}

func readModel(dir string) (embed.Model, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, modelFile))
	if errors.Is(err, fs.ErrNotExist) {
		return embed.Model{}, false, nil
	}
	if err != nil {
		return embed.Model{}, false, fmt.Errorf("engine: read %s: %w", modelFile, err)
	}
	var m embed.Model
	if err := json.Unmarshal(b, &m); err != nil {
		return embed.Model{}, false, fmt.Errorf("engine: %s in %s is malformed: %w", modelFile, dir, err)
	}
	return m, true, nil
}

func writeModel(dir string, m embed.Model) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := durable.WriteFileBytes(filepath.Join(dir, modelFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("engine: record the embedding model of %s: %w", dir, err)
	}
	return nil
}

// rememberEmbedded is RememberBatch for a space with a remote provider: text-only memories
// are embedded first, in the provider's batches, outside every lock. If the provider
// cannot embed them they are refused with ErrEmbeddingUnavailable and nothing of them is
// stored (the caller answers 503 and retries); memories that came with a vector are
// stored either way.
func (s *Space) rememberEmbedded(ctx context.Context, ms []Memory, opts RememberOptions) ([]RememberResult, []error) {
	res := make([]RememberResult, len(ms))
	errs := make([]error, len(ms))
	ms = append([]Memory(nil), ms...) // the vectors filled in are not the caller's
	var textOnly []int
	var texts []string
	for i := range ms {
		if len(ms[i].Embedding) == 0 && ms[i].Content != "" && len(ms[i].Content) <= MaxContentBytes {
			textOnly = append(textOnly, i)
			texts = append(texts, ms[i].Content)
		}
	}
	if len(texts) > 0 {
		vecs, err := s.emb.remote.EmbedBatch(ctx, texts)
		for k, i := range textOnly {
			if err != nil {
				errs[i] = fmt.Errorf("%w: space %q: %v", ErrEmbeddingUnavailable, s.id, err)
			} else {
				ms[i].Embedding = vecs[k]
			}
		}
	}
	var keep []int
	for i := range ms {
		if errs[i] == nil {
			keep = append(keep, i)
		}
	}
	if len(keep) == 0 {
		return res, errs
	}
	sub := make([]Memory, len(keep))
	for k, i := range keep {
		sub[k] = ms[i]
	}
	r, e := s.rememberBatch(ctx, sub, opts)
	for k, i := range keep {
		res[i], errs[i] = r[k], e[k]
	}
	return res, errs
}

// cueVector embeds a text cue with the space's remote provider.
func (s *Space) cueVector(ctx context.Context, query string) ([]float32, error) {
	vecs, err := s.emb.remote.EmbedBatch(ctx, []string{query})
	if err != nil {
		return nil, fmt.Errorf("%w: space %q: %v", ErrEmbeddingUnavailable, s.id, err)
	}
	return vecs[0], nil
}
