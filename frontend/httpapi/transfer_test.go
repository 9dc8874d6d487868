package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/transfer"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/frontendtest"
)

// transferFixture stores memories that exercise every field into space id, straight
// through the engine with Preserve so that times and access counts are not "now".
func transferFixture(t *testing.T, eng *engine.Engine, id string, n int) []engine.Memory {
	t.Helper()
	sp, err := eng.SpaceForWrite(id)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 11, 25, 21, 0, 0, 123456789, time.UTC)
	ms := make([]engine.Memory, 0, n)
	for i := range n {
		m := engine.Memory{
			ID:          fmt.Sprintf("%s-%04d", id, i),
			Content:     fmt.Sprintf("memory %d of %s: \"quoted\", tab\there, ünïcödé, line\nbreak", i, id),
			Confidence:  float32(i%10) / 10,
			ObservedAt:  t0.Add(time.Duration(i) * time.Minute),
			StoredAt:    t0.Add(time.Duration(i)*time.Minute + time.Second),
			AccessCount: uint32(i % 4),
			Type:        engine.Episodic,
		}
		if m.AccessCount > 0 {
			m.LastAccess = t0.Add(time.Duration(i)*time.Hour + 7)
		}
		switch i % 4 {
		case 0:
			m.Embedding = make([]float32, testDim)
			for k := range m.Embedding {
				m.Embedding[k] = float32(math.Sin(float64(i*testDim+k))) * 3.7
			}
			m.Tags = []string{"t" + fmt.Sprint(i%3), "shared"}
		case 1:
			m.Episode = &engine.Episode{Where: "kitchen", Who: []string{"ann", "bo"}, Why: "hungry", How: "quickly", EmotionalValence: -0.25, Importance: m.Confidence}
		case 2:
			m.Type = engine.Semantic
			m.Citations = []string{fmt.Sprintf("%s-%04d", id, max(i-1, 0)), "ep-elsewhere"}
		case 3:
			m.Type = engine.Procedural
		}
		ms = append(ms, m)
	}
	_, errs := sp.RememberBatch(context.Background(), slices.Clone(ms), engine.RememberOptions{Preserve: true})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("fixture memory %d: %v", i, err)
		}
	}
	return ms
}

// exportAll reads every memory of a space through the engine, embeddings included.
func exportAll(t *testing.T, eng *engine.Engine, id string) []engine.Memory {
	t.Helper()
	sp, err := eng.Space(id)
	if err != nil {
		t.Fatalf("space %s: %v", id, err)
	}
	var out []engine.Memory
	if err := sp.Export(context.Background(), func(m engine.Memory) error { out = append(out, m); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// memoryDiff names the first field in which got differs from want; embeddings may differ
// by 1e-6 relative (they are normalised on the way in and scaled back on the way out).
func memoryDiff(got, want engine.Memory) string {
	if d := vectorDiff(got.Embedding, want.Embedding); d != "" {
		return d
	}
	got.Embedding, want.Embedding = nil, nil
	got.Tier, want.Tier = 0, 0 // placement, not data
	for _, f := range []struct {
		name string
		a, b any
	}{
		{"id", got.ID, want.ID}, {"content", got.Content, want.Content}, {"confidence", got.Confidence, want.Confidence},
		{"access_count", got.AccessCount, want.AccessCount}, {"tags", got.Tags, want.Tags}, {"memory_type", got.Type, want.Type},
		{"episode", got.Episode, want.Episode}, {"citations", got.Citations, want.Citations},
	} {
		if !reflect.DeepEqual(f.a, f.b) {
			return fmt.Sprintf("%s: got %#v, want %#v", f.name, f.a, f.b)
		}
	}
	for _, f := range []struct {
		name string
		a, b time.Time
	}{{"observed_at", got.ObservedAt, want.ObservedAt}, {"stored_at", got.StoredAt, want.StoredAt}, {"last_access", got.LastAccess, want.LastAccess}} {
		if !f.a.Equal(f.b) {
			return fmt.Sprintf("%s: got %v, want %v", f.name, f.a, f.b)
		}
	}
	return ""
}

func vectorDiff(got, want []float32) string {
	if len(got) != len(want) {
		return fmt.Sprintf("embedding: %d components, want %d", len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-6*math.Max(1, math.Abs(float64(want[i]))) {
			return fmt.Sprintf("embedding[%d]: got %g, want %g", i, got[i], want[i])
		}
	}
	return ""
}

// sameSpaces fails unless two lists of memories are equal field for field.
func sameSpaces(t *testing.T, got, want []engine.Memory) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d memories, want %d", len(got), len(want))
	}
	for i := range want {
		if d := memoryDiff(got[i], want[i]); d != "" {
			t.Fatalf("memory %s: %s", want[i].ID, d)
		}
	}
}

func (ts *testServer) importBody(t *testing.T, space, body string, header ...string) answer {
	t.Helper()
	return ts.do(t, req{method: http.MethodPost, path: "/api/v1/spaces/" + space + "/import", body: body, contentType: transfer.ContentType, header: pairs(header)})
}

func TestExportSendsEveryField(t *testing.T) {
	ts := newTestServer(t)
	want := transferFixture(t, ts.eng, "alpha", 8)
	a := ts.get(t, "/api/v1/spaces/alpha/export").expectStatus(t, http.StatusOK)
	if ct := a.header.Get("Content-Type"); ct != transfer.ContentType {
		t.Fatalf("Content-Type %q", ct)
	}
	lines := strings.Split(strings.TrimSuffix(string(a.body), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), a.body)
	}
	keys := []string{"access_count", "citations", "confidence", "content", "embedding", "episode", "id", "last_access", "memory_type", "observed_at", "stored_at", "tags"}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, line)
		}
		got := make([]string, 0, len(m))
		for k := range m {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, keys) {
			t.Fatalf("line %d keys %v, want %v", i+1, got, keys)
		}
		w := want[i] // ids were chosen in sorted order; the export is in id order
		if m["id"] != w.ID || m["content"] != w.Content {
			t.Fatalf("line %d is %v, want %s", i+1, m["id"], w.ID)
		}
		if m["stored_at"] != w.StoredAt.Format(time.RFC3339Nano) || m["observed_at"] != w.ObservedAt.Format(time.RFC3339Nano) {
			t.Fatalf("line %d times %v %v, want nanosecond RFC 3339 %s", i+1, m["observed_at"], m["stored_at"], w.ObservedAt.Format(time.RFC3339Nano))
		}
		if (m["last_access"] == nil) != w.LastAccess.IsZero() || (m["episode"] == nil) != (w.Episode == nil) {
			t.Fatalf("line %d: last_access %v / episode %v", i+1, m["last_access"], m["episode"])
		}
		if w.Episode != nil {
			ep := m["episode"].(map[string]any)
			if ep["where_location"] != "kitchen" || ep["emotional_valence"] != -0.25 || len(ep["who"].([]any)) != 2 {
				t.Fatalf("line %d episode %v", i+1, ep)
			}
		}
		if m["memory_type"] != w.Type.String() || int(m["access_count"].(float64)) != int(w.AccessCount) {
			t.Fatalf("line %d: type %v count %v", i+1, m["memory_type"], m["access_count"])
		}
		if emb, ok := m["embedding"].([]any); !ok || len(emb) != testDim {
			t.Fatalf("line %d embedding %v", i+1, m["embedding"])
		}
	}
}

func TestExportImportRoundTripIsIdempotent(t *testing.T) {
	ts := newTestServer(t)
	transferFixture(t, ts.eng, "alpha", 2*transfer.BatchSize+37) // three group commits
	transferFixture(t, ts.eng, "other", 5)
	bystander := exportAll(t, ts.eng, "other")
	src := exportAll(t, ts.eng, "alpha")
	body := ts.get(t, "/api/v1/spaces/alpha/export").expectStatus(t, http.StatusOK).body

	for round := 1; round <= 2; round++ {
		a := ts.importBody(t, "beta", string(body)).expectStatus(t, http.StatusOK).object(t)
		if num(t, a, "imported") != float64(len(src)) || num(t, a, "failed") != 0 || len(arr(t, a, "errors")) != 0 || str(t, a, "memory_space_id") != "beta" {
			t.Fatalf("round %d: %v", round, a)
		}
		sameSpaces(t, exportAll(t, ts.eng, "beta"), src)
	}
	sameSpaces(t, exportAll(t, ts.eng, "alpha"), src)
	sameSpaces(t, exportAll(t, ts.eng, "other"), bystander)
	var ids []string
	for _, sp := range ts.eng.Spaces() {
		ids = append(ids, sp.ID())
	}
	if !slices.Equal(ids, []string{"alpha", "beta", "default", "other"}) {
		t.Fatalf("spaces %v", ids)
	}
	// The export of the copy is byte for byte the export of the original but for the last
	// bits of embeddings (renormalised on the way in), which sameSpaces bounds.
	embedding := regexp.MustCompile(`"embedding":\[[^]]*\]`)
	again := ts.get(t, "/api/v1/spaces/beta/export").expectStatus(t, http.StatusOK).body
	if !bytes.Equal(embedding.ReplaceAll(again, nil), embedding.ReplaceAll(body, nil)) {
		t.Fatal("the export of the imported space differs from the original export")
	}
}

func TestImportReportsBadLinesAndStoresTheRest(t *testing.T) {
	ts := newTestServer(t)
	good := func(id string) string {
		return fmt.Sprintf(`{"id":%q,"content":"fine","stored_at":"2025-01-02T03:04:05.000000006Z","access_count":2}`, id)
	}
	body := strings.Join([]string{
		good("g1"),
		`{"id":"x1","content":`, // 2: malformed
		`{"content":"no id"}`,   // 3: id required
		"",                      // 4: blank, skipped
		`{"id":"x2","content":"c","colour":"red"}`,      // 5: unknown field
		`{"id":"x3","content":"c","embedding":[1,2,3]}`, // 6: wrong dimension (engine)
		`{"id":"x4","content":"c","confidence":2}`,      // 7: out of range
		good("g2"),
	}, "\n")
	a := ts.importBody(t, "gamma", body).expectStatus(t, http.StatusOK).object(t)
	if num(t, a, "imported") != 2 || num(t, a, "failed") != 5 {
		t.Fatalf("answer %v", a)
	}
	wantLines := map[float64]string{2: "malformed JSON", 3: "id is required", 5: `unknown field "colour"`, 6: "dimension", 7: "confidence"}
	for _, e := range arr(t, a, "errors") {
		e := e.(map[string]any)
		line := num(t, e, "line")
		words, ok := wantLines[line]
		if !ok || !strings.Contains(str(t, e, "error"), words) {
			t.Fatalf("error %v; want line %v to mention %q", e, line, words)
		}
		delete(wantLines, line)
	}
	if len(wantLines) != 0 {
		t.Fatalf("lines without error: %v", wantLines)
	}
	sp, _ := ts.eng.Space("gamma")
	m, err := sp.Get("g2")
	if err != nil || m.AccessCount != 2 || m.StoredAt.Nanosecond() != 6 {
		t.Fatalf("g2 = %+v, %v; want stored_at and access_count kept", m, err)
	}
}

func TestTransferSpaceRules(t *testing.T) {
	t.Run("auto-create on", func(t *testing.T) {
		ts := newTestServer(t)
		ts.get(t, "/api/v1/spaces/ghost/export").expectError(t, http.StatusNotFound, "SPACE_NOT_FOUND")
		if _, err := ts.eng.Space("ghost"); err == nil {
			t.Fatal("an export created the space")
		}
		ts.importBody(t, "fresh", `{"id":"a","content":"x"}`).expectStatus(t, http.StatusOK)
		if _, err := ts.eng.Space("fresh"); err != nil {
			t.Fatalf("import did not create the space: %v", err)
		}
		ts.get(t, "/api/v1/spaces/Bad.Id/export").expectError(t, http.StatusBadRequest, "BAD_REQUEST")
		ts.do(t, req{method: http.MethodPost, path: "/api/v1/spaces/fresh/import", body: `{"id":"a","content":"x"}`, contentType: "text/csv"}).
			expectError(t, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", transfer.ContentType)
		ts.post(t, "/api/v1/spaces/fresh/export", "{}").expectError(t, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
		ts.get(t, "/api/v1/spaces/fresh").expectStatus(t, http.StatusOK) // the plain {id} route still matches
		ts.get(t, "/api/v1/spaces/fresh/other").expectError(t, http.StatusNotFound, "RESOURCE_NOT_FOUND")
		ts.importBody(t, "fresh", "").expectStatus(t, http.StatusOK)
	})
	t.Run("auto-create off", func(t *testing.T) {
		ts := newTestServer(t, withEngineAutoCreate(false))
		ts.importBody(t, "fresh", `{"id":"a","content":"x"}`).expectError(t, http.StatusNotFound, "SPACE_NOT_FOUND")
	})
	t.Run("body limit", func(t *testing.T) {
		ts := newTestServer(t, withFrontend(func(o *frontend.Options) { o.MaxBodyBytes = 4096 }))
		big := strings.Repeat(`{"id":"a","content":"x"}`+"\n", 400)
		ts.importBody(t, "fresh", big).expectError(t, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
	})
	t.Run("pinned listener", func(t *testing.T) {
		ts := newTestServer(t)
		transferFixture(t, ts.eng, "alpha", 2)
		ln := newInmemoryListener(t)
		if err := ts.srv.ServeOn(ln, "beta"); err != nil {
			t.Fatal(err)
		}
		pinned := clientFor(ln, "127.0.0.1")
		ts.send(t, pinned, req{path: "/api/v1/spaces/alpha/export"}).expectError(t, http.StatusBadRequest, "BAD_REQUEST", "beta")
	})
}

func TestTransferAuth(t *testing.T) {
	keys := frontendtest.Keys{
		"k-alpha": {Name: "alpha", Spaces: []string{"alpha"}},
		"k-beta":  {Name: "beta", Spaces: []string{"beta"}},
	}
	ts := newTestServer(t, withFrontend(func(o *frontend.Options) { o.Auth = keys }))
	transferFixture(t, ts.eng, "alpha", 3)
	ts.get(t, "/api/v1/spaces/alpha/export").expectError(t, http.StatusUnauthorized, "UNAUTHORIZED")
	ts.get(t, "/api/v1/spaces/alpha/export", "Authorization", "Bearer k-beta").expectError(t, http.StatusForbidden, "FORBIDDEN", "alpha")
	body := ts.get(t, "/api/v1/spaces/alpha/export", "Authorization", "Bearer k-alpha").expectStatus(t, http.StatusOK).body
	ts.importBody(t, "beta", string(body), "Authorization", "Bearer k-alpha").expectError(t, http.StatusForbidden, "FORBIDDEN", "beta")
	if _, err := ts.eng.Space("beta"); err == nil {
		t.Fatal("a refused import created the space")
	}
	a := ts.importBody(t, "beta", string(body), "Authorization", "Bearer k-beta").expectStatus(t, http.StatusOK).object(t)
	if num(t, a, "imported") != 3 {
		t.Fatalf("answer %v", a)
	}
}

// TestExportStreamsWhileWritesContinue reads an export slowly while the space is written:
// the export holds exactly the memories of the instant it began.
func TestExportStreamsWhileWritesContinue(t *testing.T) {
	ts := newTestServer(t)
	transferFixture(t, ts.eng, "alpha", 3000)
	hr, _ := http.NewRequest(http.MethodGet, "http://engram.test/api/v1/spaces/alpha/export", nil)
	resp, err := ts.client.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() {
		t.Fatal(sc.Err())
	}
	n := 1
	sp, _ := ts.eng.Space("alpha")
	for i := range 50 {
		if _, err := sp.Remember(context.Background(), engine.Memory{ID: fmt.Sprintf("late-%d", i), Content: "written during the export"}, engine.RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"late-`) {
			t.Fatalf("line %d was written after the export began: %s", n+1, sc.Text())
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 3000 {
		t.Fatalf("%d lines, want 3000", n)
	}
}

// TestStopEndsAStalledExport has a client request a large export and stop reading it:
// once the server stops, the export must end, or closing the engine would wait for the
// client forever.
func TestStopEndsAStalledExport(t *testing.T) {
	ts := newTestServer(t)
	wideSpace(t, ts.eng, "wide", 1500)
	stalledExport(t, ts, "wide")
	// The client reads no further. Stop gives up on the stalled connection after its
	// context; the export must have let go of the space by then.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = ts.srv.Stop(ctx)
	if err := ts.eng.Close(); err != nil {
		t.Fatal(err)
	}
}
