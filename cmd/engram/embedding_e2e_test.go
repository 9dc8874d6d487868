package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/engine/embed/embedtest"
)

// TestE2EEmbeddingProvider runs the binary with an OpenAI-compatible provider: text
// remembers and recalls go through it; while it is down a remember answers 503 with
// Retry-After and stores nothing; a change to another model is refused with 409 until
// `engram space reembed`, which, interrupted by the provider, continues where it stopped.
func TestE2EEmbeddingProvider(t *testing.T) {
	needBinary(t)
	env := e2eEnv(t)
	models := embedtest.New(32)
	fake := httptest.NewServer(models)
	defer fake.Close()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "config.toml")
	writeCfg := func(provider, path, model string) {
		t.Helper()
		text := fmt.Sprintf("[embedding]\ndimension = 32\nprovider = %q\nurl = %q\nmodel = %q\nbatch_size = 4\napi_key_env = \"E2E_EMBED_KEY\"\n",
			provider, fake.URL+path, model)
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env = append(env, "E2E_EMBED_KEY=sk-e2e")
	writeCfg("openai", "/v1/embeddings", "model-a")
	srv := startServer(t, env, data, "--config", cfg)
	base := "http://" + srv.http
	rem := "/api/v1/memories/remember"
	for i := 0; i < 6; i++ {
		(authCall{name: "remember", method: "POST", path: rem, space: "notes",
			body: fmt.Sprintf(`{"id":"n%d","content":"note %d about the garden and tomatoes"}`, i, i), status: 201}).check(t, base)
	}
	st, _, body := (authCall{path: "/api/v1/memories/recall?query=garden+tomatoes", space: "notes"}).do(t, base)
	if st != 200 || !strings.Contains(string(body), `"n0"`) {
		t.Fatalf("recall: %d %s", st, body)
	}
	st, _, body = (authCall{path: "/api/v1/memories/recall?query=garden+tomatoes", space: "other"}).do(t, base)
	if st != 200 || strings.Contains(string(body), `"n0"`) {
		t.Fatalf("space other sees notes: %d %s", st, body)
	}

	models.Down.Store(true)
	st, h, body := (authCall{method: "POST", path: rem, space: "notes", body: `{"id":"lost","content":"written while the model is down"}`}).do(t, base)
	if st != 503 || h.Get("Retry-After") == "" || !strings.Contains(string(body), "EMBEDDING_PROVIDER_UNAVAILABLE") {
		t.Fatalf("remember while the provider is down: %d %v %s", st, h, body)
	}
	(authCall{name: "nothing stored", path: "/api/v1/memories/lost", space: "notes", status: 404}).check(t, base)
	_, _, metrics := (authCall{path: "/metrics"}).do(t, base)
	for _, want := range []string{`engram_embedding_request_seconds_count{provider="openai"}`, `engram_embedding_errors_total{provider="openai"}`,
		`engram_embedding_queue{provider="openai"} 0`} {
		if !strings.Contains(string(metrics), want) {
			t.Fatalf("/metrics lacks %s", want)
		}
	}
	models.Down.Store(false)
	(authCall{name: "the same remember once it is back", method: "POST", path: rem, space: "notes",
		body: `{"id":"lost","content":"written while the model is down"}`, status: 201}).check(t, base)

	mustEngram(t, env, "stop", "--data-root", data)
	if code := srv.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, srv.stderr)
	}

	// Another model: refused until re-embedded.
	writeCfg("ollama", "/api/embed", "model-b")
	srv = startServer(t, env, data, "--config", cfg)
	base = "http://" + srv.http
	(authCall{name: "remember after a model change", method: "POST", path: rem, space: "notes",
		body: `{"content":"x"}`, status: 409, code: "CONFLICT"}).check(t, base)
	mustEngram(t, env, "stop", "--data-root", data)
	srv.wait(30 * time.Second)

	models.FailFrom.Store(models.Requests.Load() + 2) // the second batch of 4 fails
	code, out, errOut := engram(t, env, "space", "reembed", "notes", "--config", cfg, "--data-root", data)
	if code == 0 || !strings.Contains(errOut, "after 4 of 7") || !strings.Contains(errOut, "run it again") {
		t.Fatalf("interrupted reembed: exit %d\n%s\n%s", code, out, errOut)
	}
	models.FailFrom.Store(0)
	before := models.Requests.Load()
	out = mustEngram(t, env, "space", "reembed", "notes", "--config", cfg, "--data-root", data)
	if !strings.Contains(out, "model-b") || models.Requests.Load()-before != 1 {
		t.Fatalf("resumed reembed made %d requests (want 1 for the last 3 memories): %s", models.Requests.Load()-before, out)
	}
	srv = startServer(t, env, data, "--config", cfg)
	base = "http://" + srv.http
	st, _, body = (authCall{path: "/api/v1/memories/recall?query=garden+tomatoes", space: "notes"}).do(t, base)
	if st != 200 || !strings.Contains(string(body), `"n0"`) {
		t.Fatalf("recall after reembed: %d %s", st, body)
	}
	(authCall{name: "remember after reembed", method: "POST", path: rem, space: "notes", body: `{"content":"new"}`, status: 201}).check(t, base)
}
