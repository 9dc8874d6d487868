package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/httpapi"
	"github.com/engram-go/engram/internal/enginetest"
)

const transferDim = 8

var quietLog = enginetest.QuietLogger()

// openTransferEngine opens an engine on root the way a server would; it is closed when t
// ends if the test has not closed it.
func openTransferEngine(t *testing.T, root string) *engine.Engine {
	t.Helper()
	cfg := enginetest.Config(t, transferDim)
	cfg.DataRoot = root
	return enginetest.Open(t, cfg)
}

// fillSpace creates space id (dimension pinned) with n memories that use every field:
// embeddings given and computed, episodes, consolidated memories with citations, tags,
// access counts and last access times from the past.
func fillSpace(t *testing.T, eng *engine.Engine, id string, n int) {
	t.Helper()
	sp, _, err := eng.CreateSpace(id, engine.SpaceSettings{Dimension: transferDim})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 6, 1, 8, 30, 0, 987654321, time.UTC)
	var batch []engine.Memory
	for i := range n {
		m := engine.Memory{
			ID:          fmt.Sprintf("%s-%05d", id, i),
			Content:     fmt.Sprintf("%s remembers thing %d: \"quotes\", ümlauts and a\nnewline", id, i),
			Confidence:  float32(i%7) / 7,
			ObservedAt:  t0.Add(time.Duration(i) * time.Second),
			StoredAt:    t0.Add(time.Duration(i)*time.Second + time.Millisecond),
			AccessCount: uint32(i % 3),
			Type:        engine.Episodic,
			Tags:        []string{id},
		}
		if m.AccessCount > 0 {
			m.LastAccess = t0.Add(time.Duration(i) * time.Minute)
		}
		switch i % 4 {
		case 0:
			m.Embedding = make([]float32, transferDim)
			for k := range m.Embedding {
				m.Embedding[k] = float32(math.Cos(float64(i+k))) * 2.5
			}
		case 1:
			m.Episode = &engine.Episode{Where: "lab", Who: []string{"ann"}, Why: "test", How: "by hand", EmotionalValence: 0.5, Importance: m.Confidence}
		case 2:
			m.Type = engine.Semantic
			m.Citations = []string{fmt.Sprintf("%s-%05d", id, i-1)}
		case 3:
			m.Type = engine.Procedural
			m.Tags = nil
		}
		batch = append(batch, m)
	}
	_, errs := sp.RememberBatch(context.Background(), batch, engine.RememberOptions{Preserve: true})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("memory %d: %v", i, err)
		}
	}
}

// snapshot is every memory of a space, by id, with embeddings.
func snapshot(t *testing.T, eng *engine.Engine, id string) map[string]engine.Memory {
	t.Helper()
	sp, err := eng.Space(id)
	if err != nil {
		t.Fatalf("space %s: %v", id, err)
	}
	out := map[string]engine.Memory{}
	if err := sp.Export(context.Background(), func(m engine.Memory) error { out[m.ID] = m; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// union is a ∪ b; b wins on equal ids.
func union(a, b map[string]engine.Memory) map[string]engine.Memory {
	out := map[string]engine.Memory{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// sameMemories fails unless got and want hold the same ids with every field equal;
// embeddings may differ by 1e-6 relative.
func sameMemories(t *testing.T, what string, got, want map[string]engine.Memory) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d memories, want %d", what, len(got), len(want))
	}
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			t.Fatalf("%s: memory %s is missing", what, id)
		}
		if d := fieldDiff(g, w); d != "" {
			t.Fatalf("%s: memory %s: %s", what, id, d)
		}
	}
}

func fieldDiff(g, w engine.Memory) string {
	if len(g.Embedding) != len(w.Embedding) {
		return fmt.Sprintf("embedding has %d components, want %d", len(g.Embedding), len(w.Embedding))
	}
	for i := range w.Embedding {
		if math.Abs(float64(g.Embedding[i]-w.Embedding[i])) > 1e-6*math.Max(1, math.Abs(float64(w.Embedding[i]))) {
			return fmt.Sprintf("embedding[%d] = %g, want %g", i, g.Embedding[i], w.Embedding[i])
		}
	}
	times := [][3]any{{"observed_at", g.ObservedAt, w.ObservedAt}, {"stored_at", g.StoredAt, w.StoredAt}, {"last_access", g.LastAccess, w.LastAccess}}
	for _, c := range times {
		if !c[1].(time.Time).Equal(c[2].(time.Time)) {
			return fmt.Sprintf("%s = %v, want %v", c[0], c[1], c[2])
		}
	}
	g.Embedding, w.Embedding = nil, nil
	g.ObservedAt, w.ObservedAt, g.StoredAt, w.StoredAt, g.LastAccess, w.LastAccess = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	g.Tier, w.Tier = 0, 0 // where the memory lives, not what it is
	if !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("\n got %+v\nwant %+v", g, w)
	}
	return ""
}

func spaceIDs(eng *engine.Engine) []string {
	var ids []string
	for _, sp := range eng.Spaces() {
		ids = append(ids, sp.ID())
	}
	return ids
}

// startHTTP serves eng over HTTP on a loopback port, as `engram start` would.
func startHTTP(t *testing.T, eng *engine.Engine, maxBody int) string {
	t.Helper()
	srv, err := httpapi.New(frontend.Options{Engine: eng, HTTPListen: "127.0.0.1:0", Logger: quietLog, MaxBodyBytes: maxBody})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return srv.Addr()
}

// mustRun runs the CLI and fails unless it exits 0; it returns stdout.
func (c *cli) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := c.run(args...)
	if code != 0 {
		t.Fatalf("engram %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// jsonSummary decodes a --json summary.
func jsonSummary(t *testing.T, out string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	return m
}

func TestSpaceBackupRestoreOnline(t *testing.T) {
	eng := openTransferEngine(t, t.TempDir())
	fillSpace(t, eng, "alpha", 2500)
	fillSpace(t, eng, "other", 20)
	alpha, other := snapshot(t, eng, "alpha"), snapshot(t, eng, "other")
	// A small body limit makes the client split its 4 MiB chunks after 413 answers.
	addr := startHTTP(t, eng, 256<<10)
	c := newCLI(t)
	file := filepath.Join(t.TempDir(), "alpha.backup")

	s := jsonSummary(t, c.mustRun(t, "space", "backup", "alpha", "--out", file, "--addr", addr, "--json"))
	if s["memories"] != 2500.0 || s["space"] != "alpha" {
		t.Fatalf("backup summary %v", s)
	}
	if _, err := os.Stat(file + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("temporary file left behind: %v", err)
	}

	s = jsonSummary(t, c.mustRun(t, "space", "restore", file, "--as", "beta", "--addr", addr, "--json"))
	if s["imported"] != 2500.0 || s["failed"] != 0.0 || s["created"] != true || s["from_space"] != "alpha" {
		t.Fatalf("restore summary %v", s)
	}
	sameMemories(t, "restored copy", snapshot(t, eng, "beta"), alpha)
	sameMemories(t, "source after backup", snapshot(t, eng, "alpha"), alpha)
	sameMemories(t, "bystander", snapshot(t, eng, "other"), other)
	if ids := spaceIDs(eng); !slices.Equal(ids, []string{"alpha", "beta", "default", "other"}) {
		t.Fatalf("spaces %v", ids)
	}
	if sp, _ := eng.Space("beta"); sp.Dimension() != transferDim {
		t.Fatalf("restored space has dimension %d", sp.Dimension())
	}

	// A space that holds memories is refused without --force; with it, the restore
	// replaces each memory by itself.
	code, _, errOut := c.run("space", "restore", file, "--as", "beta", "--addr", addr)
	if code == 0 || !strings.Contains(errOut, "already holds 2500 memories") {
		t.Fatalf("restore over a full space: exit %d: %s", code, errOut)
	}
	out := c.mustRun(t, "space", "restore", file, "--as", "beta", "--force", "--addr", addr)
	if !strings.Contains(out, "Restored 2500 of 2500 memories into space 'beta'") {
		t.Fatalf("text summary %q", out)
	}
	sameMemories(t, "restored twice", snapshot(t, eng, "beta"), alpha)

	out = c.mustRun(t, "space", "restore", file, "--as", "gamma", "--dry-run", "--addr", addr)
	if !strings.Contains(out, "verified") {
		t.Fatalf("dry run: %q", out)
	}
	if _, err := eng.Space("gamma"); err == nil {
		t.Fatal("a dry run created the space")
	}
}

func TestSpaceMergeOnline(t *testing.T) {
	eng := openTransferEngine(t, t.TempDir())
	fillSpace(t, eng, "alpha", 700)
	fillSpace(t, eng, "bravo", 300)
	fillSpace(t, eng, "other", 10)
	alpha, bravo, other := snapshot(t, eng, "alpha"), snapshot(t, eng, "bravo"), snapshot(t, eng, "other")
	addr := startHTTP(t, eng, 0)
	c := newCLI(t)

	for run := 1; run <= 2; run++ { // the second run finds everything in place
		s := jsonSummary(t, c.mustRun(t, "space", "merge", "--from", "alpha", "--into", "bravo", "--addr", addr, "--json", "--chunk-bytes", "65536"))
		if s["exported"] != 700.0 || s["imported"] != 700.0 || s["verified"] != 700.0 || s["into_memories"] != 1000.0 ||
			len(s["missing"].([]any)) != 0 || len(s["differing"].([]any)) != 0 || s["created"] != false {
			t.Fatalf("run %d: summary %v", run, s)
		}
		sameMemories(t, "merged space", snapshot(t, eng, "bravo"), union(bravo, alpha))
		sameMemories(t, "merge source", snapshot(t, eng, "alpha"), alpha)
		sameMemories(t, "bystander", snapshot(t, eng, "other"), other)
	}

	out := c.mustRun(t, "space", "merge", "--from", "alpha", "--into", "fresh", "--addr", addr)
	if !strings.Contains(out, "Merged 'alpha' into 'fresh': 700 memories copied, 0 refused; checked: all 700 present in 'fresh' with the same content; 'fresh' now holds 700 memories") {
		t.Fatalf("text summary %q", out)
	}
	sameMemories(t, "merge into a new space", snapshot(t, eng, "fresh"), alpha)
	if ids := spaceIDs(eng); !slices.Equal(ids, []string{"alpha", "bravo", "default", "fresh", "other"}) {
		t.Fatalf("spaces %v", ids)
	}

	for _, tc := range []struct {
		args  []string
		words string
	}{
		{[]string{"--from", "alpha", "--into", "alpha"}, "both name space 'alpha'"},
		{[]string{"--from", "ghost", "--into", "bravo"}, "no such memory space"},
		{[]string{"--from", "Alpha!", "--into", "bravo"}, "--from"},
	} {
		code, _, errOut := c.run(append([]string{"space", "merge", "--addr", addr}, tc.args...)...)
		if code == 0 || !strings.Contains(errOut, tc.words) {
			t.Errorf("merge %v: exit %d, stderr %q; want it to mention %q", tc.args, code, errOut, tc.words)
		}
	}
	if _, err := eng.Space("ghost"); err == nil {
		t.Fatal("a refused merge created its source")
	}
}

func TestSpaceMergeRefusesOtherDimension(t *testing.T) {
	eng := openTransferEngine(t, t.TempDir())
	fillSpace(t, eng, "alpha", 5)
	if _, _, err := eng.CreateSpace("wide", engine.SpaceSettings{Dimension: 16}); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t)
	code, _, errOut := c.run("space", "merge", "--from", "alpha", "--into", "wide", "--addr", startHTTP(t, eng, 0))
	if code == 0 || !strings.Contains(errOut, "dimension") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if sp, _ := eng.Space("wide"); sp.Stats().Memories != 0 {
		t.Fatal("memories were written into a space of another dimension")
	}
}

func TestSpaceRestoreRefusesDamagedBackup(t *testing.T) {
	eng := openTransferEngine(t, t.TempDir())
	fillSpace(t, eng, "alpha", 400)
	addr := startHTTP(t, eng, 0)
	c := newCLI(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.backup")
	c.mustRun(t, "space", "backup", "alpha", "--out", good, "--addr", addr)
	orig, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	size := len(orig)
	flip := func(at int) func([]byte) []byte {
		return func(b []byte) []byte { b[at] ^= 0x01; return b }
	}
	spaceAt := strings.Index(string(orig[:backupHeaderSize]), `"alpha"`) + 1
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
		words  string
	}{
		{"header space id", flip(spaceAt), "header checksum"},
		{"header padding", flip(backupHeaderSize - 10), "header"},
		{"first body byte", flip(backupHeaderSize), "damaged"},
		{"middle of the body", flip(backupHeaderSize + (size-backupHeaderSize-backupTrailerSize)/2), "damaged"},
		{"last body byte", flip(size - backupTrailerSize - 1), "damaged"},
		{"trailer checksum", func(b []byte) []byte {
			i := strings.Index(string(b[size-backupTrailerSize:]), `"ndjson_xxhash64":"`) + len(`"ndjson_xxhash64":"`)
			b[size-backupTrailerSize+i] ^= 0x01 // still a hex digit or not, both refused
			return b
		}, "damaged"},
		{"trailer padding", flip(size - 2), "trailer"},
		{"cut short", func(b []byte) []byte { return b[:size-100] }, "damaged"},
		{"one byte added", func(b []byte) []byte { return append(b, ' ') }, "damaged"},
		{"empty", func([]byte) []byte { return nil }, "too short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.WriteFile(bad, tc.damage(slices.Clone(orig)), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := c.run("space", "restore", bad, "--as", "victim", "--addr", addr)
			if code == 0 || !strings.Contains(errOut, tc.words) || !strings.Contains(errOut, "was not restored") {
				t.Fatalf("exit %d, stderr %q (stdout %q); want a refusal mentioning %q", code, errOut, out, tc.words)
			}
			if _, err := eng.Space("victim"); err == nil {
				t.Fatal("the refused restore created its space")
			}
		})
	}
	if ids := spaceIDs(eng); !slices.Equal(ids, []string{"alpha", "default"}) {
		t.Fatalf("spaces %v", ids)
	}
	// The undamaged file still restores.
	c.mustRun(t, "space", "restore", good, "--as", "victim", "--addr", addr)
	sameMemories(t, "restore of the good file", snapshot(t, eng, "victim"), snapshot(t, eng, "alpha"))
}

func TestSpaceTransferOffline(t *testing.T) {
	root := t.TempDir()
	eng := openTransferEngine(t, root)
	fillSpace(t, eng, "alpha", 1200)
	fillSpace(t, eng, "bravo", 150)
	fillSpace(t, eng, "other", 10)
	alpha, bravo, other := snapshot(t, eng, "alpha"), snapshot(t, eng, "bravo"), snapshot(t, eng, "other")
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t)
	file := filepath.Join(t.TempDir(), "alpha.backup")

	s := jsonSummary(t, c.mustRun(t, "space", "backup", "alpha", "--out", file, "--data-root", root, "--json"))
	if s["memories"] != 1200.0 || !strings.HasPrefix(s["source"].(string), "data root") {
		t.Fatalf("backup summary %v", s)
	}
	s = jsonSummary(t, c.mustRun(t, "space", "restore", file, "--as", "gamma", "--data-root", root, "--json"))
	if s["imported"] != 1200.0 || s["failed"] != 0.0 {
		t.Fatalf("restore summary %v", s)
	}
	for run := 1; run <= 2; run++ {
		s = jsonSummary(t, c.mustRun(t, "space", "merge", "--from", "alpha", "--into", "bravo", "--data-root", root, "--json"))
		if s["imported"] != 1200.0 || s["verified"] != 1200.0 || s["into_memories"] != 1350.0 {
			t.Fatalf("merge run %d summary %v", run, s)
		}
	}

	eng = openTransferEngine(t, root)
	sameMemories(t, "offline restore", snapshot(t, eng, "gamma"), alpha)
	sameMemories(t, "offline merge", snapshot(t, eng, "bravo"), union(bravo, alpha))
	sameMemories(t, "offline source", snapshot(t, eng, "alpha"), alpha)
	sameMemories(t, "offline bystander", snapshot(t, eng, "other"), other)
	if ids := spaceIDs(eng); !slices.Equal(ids, []string{"alpha", "bravo", "default", "gamma", "other"}) {
		t.Fatalf("spaces %v", ids)
	}
}

func TestSpaceTransferOfflineRefusesAHeldDataRoot(t *testing.T) {
	root := t.TempDir()
	eng := openTransferEngine(t, root)
	fillSpace(t, eng, "alpha", 3)
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	release, err := lockDataRoot(root) // what a running server holds
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	c := newCLI(t)
	file := filepath.Join(t.TempDir(), "alpha.backup")
	for _, args := range [][]string{
		{"space", "backup", "alpha", "--out", file},
		{"space", "merge", "--from", "alpha", "--into", "bravo"},
	} {
		code, _, errOut := c.run(append(args, "--data-root", root)...)
		if code == 0 || !strings.Contains(errOut, "in use") {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatal("a backup was written from a held data root")
	}
	code, _, errOut := c.run("space", "backup", "alpha", "--out", file, "--data-root", filepath.Join(root, "missing"))
	if code == 0 || !strings.Contains(errOut, "not a directory") {
		t.Fatalf("missing data root: exit %d, stderr %q", code, errOut)
	}
}
