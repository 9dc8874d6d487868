package engine

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/engram-go/engram/engine/embed"
	"github.com/engram-go/engram/engine/embed/embedtest"
)

func newModelServer(t *testing.T, dim int) (*embedtest.Provider, string) {
	m := embedtest.New(dim)
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return m, srv.URL + "/v1/embeddings"
}

func openAIConfig(t *testing.T, root, url string) Config {
	cfg := testConfig(t, root)
	cfg.Embedding = embed.Config{Provider: embed.ProviderOpenAI, URL: url, Model: "test-model", BatchSize: 4, MaxRetries: -1}
	return cfg
}

func texts(prefix string, n int) []Memory {
	out := make([]Memory, n)
	for i := range out {
		out[i] = Memory{ID: prefix + string(rune('a'+i)), Content: prefix + " note about topic " + string(rune('a'+i)), Confidence: 0.7}
	}
	return out
}

// TestProviderEmbedsTextAndCues: text-only memories and cues are embedded by the provider
// in its batches, the vectors are durable (a reopen with the provider gone still has them),
// and another space sees none of it.
func TestProviderEmbedsTextAndCues(t *testing.T) {
	root := t.TempDir()
	model, url := newModelServer(t, 16)
	e := openTest(t, openAIConfig(t, root, url))
	s := mustSpace(t, e, "alpha")
	ms := texts("alpha", 10)
	_, errs := s.RememberBatch(context.Background(), ms, RememberOptions{})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("memory %d: %v", i, err)
		}
	}
	if got := model.Requests.Load(); got != 3 {
		t.Fatalf("%d provider requests for 10 texts in batches of 4, want 3", got)
	}
	res, err := s.Recall(context.Background(), Cue{Query: "alpha note about topic c", Mode: ModeSimilarity})
	if err != nil || len(res.Vivid) == 0 || res.Vivid[0].Memory.ID != "alphac" {
		t.Fatalf("recall: %+v %v", res.Vivid, err)
	}
	if model.Texts.Load() != 11 {
		t.Fatalf("the provider embedded %d texts, want 10 memories and 1 cue", model.Texts.Load())
	}
	other := mustSpace(t, e, "beta")
	if res, err := other.Recall(context.Background(), Cue{Query: "alpha note about topic c"}); err != nil || len(res.Vivid)+len(res.Associated) != 0 {
		t.Fatalf("beta sees alpha: %+v %v", res, err)
	}
	want, _ := s.Get("alphac")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	model.Down.Store(true)
	before := model.Requests.Load()
	e = openTest(t, openAIConfig(t, root, url))
	defer e.Close()
	got, err := mustSpace(t, e, "alpha").Get("alphac")
	if err != nil || len(got.Embedding) != 16 || !slices.Equal(got.Embedding, want.Embedding) {
		t.Fatalf("after reopen: %v %v, want the provider's vector %v", got.Embedding, err, want.Embedding)
	}
	if model.Requests.Load() != before {
		t.Fatal("recovery called the provider")
	}
}

// TestProviderDownLosesNoWrite: while the provider is down a text-only remember is refused
// with ErrEmbeddingUnavailable and nothing of it is stored, a memory with its own vector is
// stored, a text recall is refused the same way; once the provider is back the same
// remember succeeds.
func TestProviderDownLosesNoWrite(t *testing.T) {
	model, url := newModelServer(t, 16)
	e := openTest(t, openAIConfig(t, t.TempDir(), url))
	defer e.Close()
	s := mustSpace(t, e, "alpha")
	model.Down.Store(true)
	withVec := Memory{ID: "given", Content: "came with its vector", Confidence: 0.7, Embedding: zeroPadded(16, 1, 2, 3)}
	_, errs := s.RememberBatch(context.Background(), append(texts("down", 3), withVec), RememberOptions{})
	for i := 0; i < 3; i++ {
		if !errors.Is(errs[i], ErrEmbeddingUnavailable) || !strings.Contains(errs[i].Error(), "503") {
			t.Fatalf("memory %d while down: %v", i, errs[i])
		}
		if _, err := s.Get(texts("down", 3)[i].ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a refused memory was stored: %v", err)
		}
	}
	if errs[3] != nil {
		t.Fatalf("a memory with its own vector was refused: %v", errs[3])
	}
	if _, err := s.Recall(context.Background(), Cue{Query: "down note"}); !errors.Is(err, ErrEmbeddingUnavailable) {
		t.Fatalf("text recall while down: %v", err)
	}
	if _, err := s.Recall(context.Background(), Cue{Embedding: zeroPadded(16, 1, 2, 3)}); err != nil {
		t.Fatalf("vector recall while down: %v", err)
	}

	model.Down.Store(false)
	_, errs = s.RememberBatch(context.Background(), texts("down", 3), RememberOptions{})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("memory %d after the provider came back: %v", i, err)
		}
	}
	if st := s.Stats(); st.Memories != 4 {
		t.Fatalf("%d memories, want 4", st.Memories)
	}
}

// TestModelChangeRefusedUntilReembedded: a space holding memories of the built-in model
// refuses remembers and recalls once the configuration names another model; an empty
// space takes the new model; a re-embedding interrupted by the provider resumes where it
// stopped, and then the space works with the new model.
func TestModelChangeRefusedUntilReembedded(t *testing.T) {
	root := t.TempDir()
	e := openTest(t, testConfig(t, root))
	s := mustSpace(t, e, "alpha")
	ms := texts("old", 10)
	if _, errs := s.RememberBatch(context.Background(), ms, RememberOptions{}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	mustSpace(t, e, "empty")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	model, url := newModelServer(t, 16)
	cfg := openAIConfig(t, root, url)
	e = openTest(t, cfg)
	defer func() { e.Close() }()
	s = mustSpace(t, e, "alpha")
	if _, err := s.Remember(context.Background(), Memory{Content: "new"}, RememberOptions{}); !errors.Is(err, ErrModelChanged) ||
		!strings.Contains(err.Error(), "engram space reembed alpha") || !strings.Contains(err.Error(), "test-model") {
		t.Fatalf("remember after a model change: %v", err)
	}
	if _, err := s.Recall(context.Background(), Cue{Query: "old note"}); !errors.Is(err, ErrModelChanged) {
		t.Fatalf("recall after a model change: %v", err)
	}
	if _, err := mustSpace(t, e, "empty").Remember(context.Background(), Memory{Content: "fresh", Confidence: 0.7}, RememberOptions{}); err != nil {
		t.Fatalf("an empty space refuses the new model: %v", err)
	}

	// A step is one provider batch of 4: the provider fails from the second request, so the
	// first run stores 4 memories and stops.
	model.FailFrom.Store(model.Requests.Load() + 2)
	var seen []int
	if err := s.Reembed(context.Background(), func(done, total int) { seen = append(seen, done) }); !errors.Is(err, ErrEmbeddingUnavailable) {
		t.Fatalf("interrupted reembed: %v", err)
	}
	if _, err := s.Remember(context.Background(), Memory{Content: "new"}, RememberOptions{}); !errors.Is(err, ErrModelChanged) {
		t.Fatalf("a half re-embedded space took a remember: %v", err)
	}
	model.FailFrom.Store(0)
	textsBefore := model.Texts.Load()
	if err := s.Reembed(context.Background(), func(done, total int) { seen = append(seen, done) }); err != nil {
		t.Fatal(err)
	}
	if n := model.Texts.Load() - textsBefore; n != 6 {
		t.Fatalf("the resumed run embedded %d texts, want the 6 the first run did not finish", n)
	}
	if len(seen) != 3 || seen[0] != 4 || seen[2] != 10 {
		t.Fatalf("progress %v", seen)
	}
	res, err := s.Recall(context.Background(), Cue{Query: "old note about topic d", Mode: ModeSimilarity})
	if err != nil || len(res.Vivid) == 0 || res.Vivid[0].Memory.ID != "oldd" {
		t.Fatalf("recall after reembed: %+v %v", res.Vivid, err)
	}
	got, _ := s.Get("oldd")
	if got.Content != ms[3].Content || got.StoredAt.IsZero() {
		t.Fatalf("reembed changed the memory: %+v", got)
	}

	// The model is recorded: a restart with the same configuration serves the space.
	e.Close()
	e = openTest(t, cfg)
	if _, err := mustSpace(t, e, "alpha").Remember(context.Background(), Memory{Content: "after restart", Confidence: 0.7}, RememberOptions{}); err != nil {
		t.Fatalf("after reembed and restart: %v", err)
	}
}

// TestReembedBackToTheBuiltInEmbedder: a space embedded by a provider, configured back to
// hash, is refused until re-embedded; the re-embedding needs no provider (the built-in
// vectors are derived from the content again) and recall finds the memories.
func TestReembedBackToTheBuiltInEmbedder(t *testing.T) {
	root := t.TempDir()
	_, url := newModelServer(t, 16)
	e := openTest(t, openAIConfig(t, root, url))
	s := mustSpace(t, e, "alpha")
	if _, errs := s.RememberBatch(context.Background(), texts("prov", 5), RememberOptions{}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	e.Close()

	e = openTest(t, testConfig(t, root))
	defer e.Close()
	s = mustSpace(t, e, "alpha")
	if _, err := s.Recall(context.Background(), Cue{Query: "prov note"}); !errors.Is(err, ErrModelChanged) || !strings.Contains(err.Error(), "hash") {
		t.Fatalf("recall after going back to hash: %v", err)
	}
	if err := s.Reembed(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	res, err := s.Recall(context.Background(), Cue{Query: "prov note about topic b", Mode: ModeSimilarity})
	if err != nil || len(res.Vivid) == 0 || res.Vivid[0].Memory.ID != "provb" {
		t.Fatalf("recall after reembed: %+v %v", res.Vivid, err)
	}
	m, err := s.Get("provb")
	want := make([]float32, 16)
	embed.NewHash(16).Embed(m.Content, want)
	if err != nil || !slices.Equal(m.Embedding, want) {
		t.Fatalf("provb's vector is not the built-in one: %v %v", m.Embedding, err)
	}
}
