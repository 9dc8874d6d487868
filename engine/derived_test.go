package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/engram-go/engram/engine/tier"
	"github.com/engram-go/engram/simd"
)

// derivedSpace fills space "default" of a tiered configuration with memories spread over
// cold, warm and hot tiers (with deletions and replacements in sealed segments, so the
// checkpoint's deletion bitmaps matter), links them, checkpoints and closes. Space "other"
// gets a memory of its own.
func derivedSpace(t *testing.T) Config {
	root := t.TempDir()
	cfg := tierConfig(t, root)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	cfg.Now = func() time.Time { return now }
	// Small log segments, so that the checkpoint drops nearly all of the log and closing
	// leaves the tail to the WAL instead of checkpointing again (checkpointOnCloseBytes).
	cfg.Defaults.WALSegmentBytes = 128 << 10
	e := openTest(t, cfg)
	s := mustSpace(t, e, "default")
	other := mustSpace(t, e, "other")
	ctx := context.Background()
	if _, err := other.Remember(ctx, Memory{ID: "o1", Content: "another space's topic3 note"}, RememberOptions{}); err != nil {
		t.Fatal(err)
	}
	const n = 90
	for i := 0; i < n; i++ {
		if _, err := s.Remember(ctx, Memory{ID: fmt.Sprintf("m%03d", i), Content: tierContent(i), Confidence: 0.8}, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
		if i > 0 && i%3 == 0 {
			if _, err := s.Associate(ctx, fmt.Sprintf("m%03d", i), fmt.Sprintf("m%03d", (i*7)%i), 0.6); err != nil {
				t.Fatal(err)
			}
		}
		if i%15 == 14 {
			waitLinkedSpace(s)
			checkpointNow(t, s)
		}
	}
	for _, id := range []string{"m001", "m017", "m040"} {
		if err := s.Forget(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Remember(ctx, Memory{ID: "m005", Content: "replaced observation about topic3", Confidence: 0.9}, RememberOptions{}); err != nil {
		t.Fatal(err)
	}
	waitLinkedSpace(s)
	checkpointNow(t, s)
	if s.Stats().Edges == 0 {
		t.Fatal("the space has no edges to persist")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func waitLinkedSpace(s *Space) {
	for s.Stats().LinkQueue > 0 {
		time.Sleep(5 * time.Millisecond)
	}
}

// derivedView is what a reopened space answers: recalls by text and vector, and every
// memory's edges by id.
func derivedView(t *testing.T, s *Space) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, q := range []string{"topic3 detail", "observation about topic5", "replaced observation"} {
		res, err := s.Recall(ctx, Cue{Query: q, MaxResults: 30, Threshold: 0.0001, NoReinforce: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range [][]Hit{res.Vivid, res.Associated, res.Reconstructed} {
			for _, h := range part {
				out = append(out, fmt.Sprintf("%q %s %v %.6f %.6f", q, h.Memory.ID, h.Path, h.Score, h.Activation))
			}
		}
	}
	st, err := s.acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer s.mu.RUnlock()
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, q := range []string{"topic3 detail", "observation", "replaced topic5 detail12"} {
		for _, h := range st.lex.Search(q, 100, st.aliveLocked).Hits {
			out = append(out, fmt.Sprintf("lexical %q %s %.6f %d", q, st.byRow[h.Row].m.ID, h.Score, h.Matched))
		}
	}
	for _, id := range []string{"m999", "m001", "m017", "m040"} { // never stored, forgotten
		if _, ok := st.rowOf(id); ok {
			t.Fatalf("the id map finds %s, which no memory has", id)
		}
	}
	for row, lm := range st.byRow {
		if lm == nil {
			continue
		}
		if r, ok := st.rowOf(lm.m.ID); !ok || r != uint32(row) {
			t.Fatalf("the id map gives %s row %d (found %v); it is at row %d", lm.m.ID, r, ok, row)
		}
		var es []string
		for _, e := range st.graph.Neighbors(uint32(row)) {
			es = append(es, fmt.Sprintf("%s:%.6f:%d", st.byRow[e.To].m.ID, e.Weight, e.Kind))
		}
		slices.Sort(es)
		out = append(out, lm.m.ID+" → "+strings.Join(es, " "))
	}
	slices.Sort(out)
	return out
}

// openDerived opens cfg with its log captured and returns the view of "default", the log,
// and whether "other" sees nothing of it.
func openDerived(t *testing.T, cfg Config) ([]string, string) {
	t.Helper()
	var logs bytes.Buffer
	var mu sync.Mutex
	cfg.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	e := openTest(t, cfg)
	defer e.Close()
	s, err := e.Space("default")
	if err != nil {
		t.Fatal(err)
	}
	view := derivedView(t, s)
	other, err := e.Space("other")
	if err != nil {
		t.Fatal(err)
	}
	res, err := other.Recall(context.Background(), Cue{Query: "observation topic3", Threshold: 0.0001, NoReinforce: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range slices.Concat(res.Vivid, res.Associated, res.Reconstructed) {
		if h.Memory.ID != "o1" {
			t.Fatalf("space other recalls %s of space default", h.Memory.ID)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return view, logs.String()
}

// resealDerived recomputes the header checksum of a derived file after an edit.
func resealDerived(b []byte) {
	binary.LittleEndian.PutUint64(b[56:], xxhash.Sum64(b[:56]))
}

// TestDerivedDamageRebuilds: a derived file (row graph, lexical index, id map) that is
// truncated, bit-flipped, of another format version or written for other rows is rebuilt
// from the memories with a logged warning; the space opens and answers exactly as it did
// from the intact files, and as the rebuild path does.
func TestDerivedDamageRebuilds(t *testing.T) {
	cfg := derivedSpace(t)
	dir := filepath.Join(cfg.DataRoot, "default")
	man, err := tier.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, logs := openDerived(t, cfg)
	if strings.Contains(logs, "derived file unusable") {
		t.Fatalf("the intact derived files were not used:\n%s", logs)
	}
	rebuild := cfg
	rebuild.rebuildDerived = true
	if got, _ := openDerived(t, rebuild); !slices.Equal(got, want) {
		t.Fatalf("the rebuild path answers differently:\n got %q\nwant %q", got, want)
	}

	cases := []struct {
		name   string
		damage func(b []byte) []byte
		reason string
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-5] }, "unreadable"},
		{"truncated header", func(b []byte) []byte { return b[:20] }, "unreadable"},
		{"empty", func(b []byte) []byte { return nil }, "unreadable"},
		{"bit flip in the payload", func(b []byte) []byte { b[len(b)-3] ^= 0x10; return b }, "unreadable"},
		{"bit flip in the header", func(b []byte) []byte { b[30] ^= 0x01; return b }, "unreadable"},
		{"older version", func(b []byte) []byte { binary.LittleEndian.PutUint16(b[8:], 0); resealDerived(b); return b }, "unreadable"},
		{"newer version", func(b []byte) []byte { binary.LittleEndian.PutUint16(b[8:], 3); resealDerived(b); return b }, "unreadable"},
		{"another checkpoint", func(b []byte) []byte { b[16]++; resealDerived(b); return b }, "written for another checkpoint"},
		{"other rows", func(b []byte) []byte { b[32] ^= 0x80; resealDerived(b); return b }, "differ from the ones"},
		{"missing", nil, "unreadable"},
	}
	for _, file := range []string{man.Graph, man.Lexical, man.IDMap} {
		if file == "" {
			t.Fatalf("the checkpoint wrote no derived file: %+v", man)
		}
		path := filepath.Join(dir, file)
		intact, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			t.Run(filepath.Ext(file)+"/"+c.name, func(t *testing.T) {
				if c.damage == nil {
					if err := os.Remove(path); err != nil {
						t.Fatal(err)
					}
				} else if err := os.WriteFile(path, c.damage(bytes.Clone(intact)), 0o644); err != nil {
					t.Fatal(err)
				}
				got, logs := openDerived(t, cfg)
				if !strings.Contains(logs, "derived file unusable") || !strings.Contains(logs, c.reason) || !strings.Contains(logs, file) {
					t.Fatalf("no warning naming %s and %q:\n%s", file, c.reason, logs)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("answers differ after the damage:\n got %q\nwant %q", got, want)
				}
				if err := os.WriteFile(path, intact, 0o644); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// indexedSpace fills space "default" with hnswMinRows+2000 memories whose 16-d embeddings
// lie near a great circle (a graph index finds their exact neighbours), checkpoints it
// with the index lane held for the last lag of them (so the saved index lacks them), adds
// tail memories to the WAL only, and closes. Space "other" gets a memory of its own. It
// returns the configuration and what the space answered before closing (indexView).
func indexedSpace(t *testing.T, lag, tail int) (Config, []string) {
	const dim = 16
	cfg := testConfig(t, t.TempDir())
	cfg.EmbeddingProvider = "none"
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	cfg.Now = func() time.Time { return now }
	// Small log segments, so that the checkpoint drops nearly all of the log and closing
	// leaves the tail to the WAL instead of checkpointing again (checkpointOnCloseBytes).
	cfg.Defaults.WALSegmentBytes = 128 << 10
	e := openTest(t, cfg)
	s := mustSpace(t, e, "default")
	other := mustSpace(t, e, "other")
	ctx := context.Background()
	if _, err := other.Remember(ctx, Memory{ID: "o1", Content: "another space's note", Embedding: circleVector(dim, 0.5)}, RememberOptions{}); err != nil {
		t.Fatal(err)
	}
	remember := func(from, n int, wait bool) {
		for done := 0; done < n; done += 1000 {
			batch := make([]Memory, min(1000, n-done))
			for i := range batch {
				k := from + done + i
				batch[i] = Memory{ID: fmt.Sprintf("m%05d", k), Content: fmt.Sprintf("memory %d", k), Confidence: 0.5, Embedding: circleVector(dim, float64(k)*0.7548776662)}
			}
			if _, errs := s.RememberBatch(ctx, batch, RememberOptions{}); errors.Join(errs...) != nil {
				t.Fatal(errors.Join(errs...))
			}
		}
		if wait {
			waitForEdges(t, s)
		}
	}
	rows := hnswMinRows + 2000
	remember(0, rows-lag, true)
	if lag > 0 {
		release := make(chan struct{})
		hold := func() { <-release }
		readState(t, s, func(st *state) { st.link.beforeInsert.Store(&hold) })
		remember(rows-lag, lag, false)
		checkpointNow(t, s)
		readState(t, s, func(st *state) { st.link.beforeInsert.Store(nil) })
		close(release)
	} else {
		checkpointNow(t, s)
	}
	man, err := tier.LoadManifest(filepath.Join(cfg.DataRoot, "default"))
	if err != nil {
		t.Fatal(err)
	}
	covered := man.CheckpointLSN
	remember(rows, tail, true)
	want := indexView(t, s)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if man, err := tier.LoadManifest(filepath.Join(cfg.DataRoot, "default")); err != nil || man.CheckpointLSN != covered {
		t.Fatalf("closing checkpointed the tail (manifest %+v, %v): the test needs it in the log", man, err)
	}
	return cfg, want
}

// circleVector is a unit vector at angle a on a circle of the first two dimensions,
// lifted a little into the third by a slower wave, so that no two memories coincide.
func circleVector(dim int, a float64) []float32 {
	v := zeroPadded(dim, float32(math.Cos(a)), float32(math.Sin(a)), float32(0.1*math.Sin(a/7)))
	simd.Normalize(v)
	return v
}

// indexView is what space s answers to vector recalls, once its index has caught up.
func indexView(t *testing.T, s *Space) []string {
	t.Helper()
	waitForEdges(t, s)
	var out []string
	for i := range 20 {
		q := circleVector(16, float64(i)*0.331+0.01)
		res, err := s.Recall(context.Background(), Cue{Embedding: q, MaxResults: 10, Threshold: 0.0001, NoReinforce: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Vivid {
			out = append(out, fmt.Sprintf("%d %s %.6f", i, h.Memory.ID, h.Score))
		}
	}
	return out
}

// openIndexed opens cfg with its log captured and returns the rows space "default"
// holds in its index right after opening, its view once the index caught up, and the log.
// It checks that space "other" recalls nothing of "default".
func openIndexed(t *testing.T, cfg Config) (int, []string, string) {
	t.Helper()
	var logs bytes.Buffer
	var mu sync.Mutex
	cfg.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	e := openTest(t, cfg)
	defer e.Close()
	s := mustSpace(t, e, "default")
	var atOpen int
	readState(t, s, func(st *state) {
		for row := range st.byRow {
			if st.hnsw.Contains(uint32(row)) {
				atOpen++
			}
		}
	})
	view := indexView(t, s)
	res, err := mustSpace(t, e, "other").Recall(context.Background(), Cue{Embedding: circleVector(16, 0.5), Threshold: 0.0001, NoReinforce: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range res.Vivid {
		if h.Memory.ID != "o1" {
			t.Fatalf("space other recalls %s of space default", h.Memory.ID)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return atOpen, view, logs.String()
}

// TestDerivedIndexDamageRebuilds: the checkpoint's HNSW file gives the reopened space its
// vector index at once, for exactly the checkpoint's rows (the WAL tail's are inserted by
// the index lane after); a damaged one is rebuilt from the memories with a logged
// warning, and the space answers vector recalls exactly as before it closed in every case.
func TestDerivedIndexDamageRebuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and indexes 12,000 memories")
	}
	const tail = 300
	cfg, want := indexedSpace(t, 0, tail)
	dir := filepath.Join(cfg.DataRoot, "default")
	man, err := tier.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if man.HNSW == "" {
		t.Fatalf("the checkpoint wrote no hnsw file: %+v", man)
	}
	rows := hnswMinRows + 2000
	atOpen, got, logs := openIndexed(t, cfg)
	if strings.Contains(logs, "derived file unusable") {
		t.Fatalf("the intact hnsw file was not used:\n%s", logs)
	}
	// The index lane may have taken some of the tail by the time it is counted.
	if atOpen < rows || atOpen > rows+tail {
		t.Fatalf("the index held %d rows after opening, want the checkpoint's %d (and at most %d of the tail)", atOpen, rows, tail)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("answers differ after reopening:\n got %q\nwant %q", got, want)
	}
	rebuild := cfg
	rebuild.rebuildDerived = true
	if _, got, _ := openIndexed(t, rebuild); !slices.Equal(got, want) {
		t.Fatalf("the rebuild path answers differently:\n got %q\nwant %q", got, want)
	}

	path := filepath.Join(dir, man.HNSW)
	intact, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	cases := []struct {
		name   string
		damage func(b []byte) []byte
		reason string
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-5] }, "unreadable"},
		{"bit flip in the payload", func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b }, "unreadable"},
		{"version 1, which saved similarities", func(b []byte) []byte { le.PutUint16(b[8:], 1); resealDerived(b); return b }, "unreadable"},
		{"other rows", func(b []byte) []byte { b[32] ^= 0x80; resealDerived(b); return b }, "differ from the ones"},
		// Consistent framing around a graph of another M: the payload check catches it.
		{"another M", func(b []byte) []byte { le.PutUint32(b[64:], 8); resealPayload(b); return b }, "invalid graph"},
		{"missing", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.damage == nil {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(path, c.damage(bytes.Clone(intact)), 0o644); err != nil {
				t.Fatal(err)
			}
			atOpen, got, logs := openIndexed(t, cfg)
			if c.reason != "" && (!strings.Contains(logs, "derived file unusable") || !strings.Contains(logs, c.reason) || !strings.Contains(logs, man.HNSW)) {
				t.Fatalf("no warning naming %s and %q:\n%s", man.HNSW, c.reason, logs)
			}
			if atOpen >= rows {
				t.Fatalf("the index held %d rows right after opening from a damaged file", atOpen)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("answers differ after the damage:\n got %q\nwant %q", got, want)
			}
			if err := os.WriteFile(path, intact, 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// resealPayload recomputes a derived file's payload and header checksums after an edit.
func resealPayload(b []byte) {
	binary.LittleEndian.PutUint64(b[48:], xxhash.Sum64(b[64:]))
	resealDerived(b)
}

// TestDerivedIndexLagging: a checkpoint taken while the index lags saves the rows the
// index holds; reopening loads them, the index lane inserts the others and the WAL tail's,
// and recall answers as before the close, exactly scanning what the index lacks meanwhile.
func TestDerivedIndexLagging(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and indexes 12,000 memories")
	}
	const lag, tail = 700, 300
	cfg, want := indexedSpace(t, lag, tail)
	rows := hnswMinRows + 2000
	dir := filepath.Join(cfg.DataRoot, "default")
	man, err := tier.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := tier.ReadHNSW(filepath.Join(dir, man.HNSW))
	if err != nil {
		t.Fatal(err)
	}
	if nodes := binary.LittleEndian.Uint32(f.Payload[4:]); f.Rows != uint64(rows) || nodes != uint32(rows-lag) {
		t.Fatalf("the checkpoint of %d rows saved %d of them in its index, want the %d the index held", f.Rows, nodes, rows-lag)
	}
	atOpen, got, logs := openIndexed(t, cfg)
	if strings.Contains(logs, "derived file unusable") {
		t.Fatalf("the hnsw file was not used:\n%s", logs)
	}
	if atOpen < rows-lag {
		t.Fatalf("the index held %d rows after opening, want at least the %d it held at the checkpoint", atOpen, rows-lag)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("answers differ after reopening:\n got %q\nwant %q", got, want)
	}
}
