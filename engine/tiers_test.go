package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/engram-go/engram/engine/tier"
)

// checkpointNow runs a checkpoint of s while holding it open.
func checkpointNow(t testing.TB, s *Space) {
	t.Helper()
	st, err := s.acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer s.mu.RUnlock()
	if err := st.checkpoint(); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
}

func tierConfig(t testing.TB, root string) Config {
	cfg := testConfig(t, root)
	cfg.Defaults.Dimension = 64
	cfg.Defaults.HotCapacity, cfg.Defaults.WarmCapacity, cfg.Defaults.ColdCapacity = 20, 30, 1000
	return cfg
}

func tierContent(i int) string {
	return fmt.Sprintf("observation %03d about topic%d and detail%d", i, i%7, i)
}

// TestTiersSurviveRestart fills a space past its hot and warm capacities, so memories are
// sealed into warm segments and compacted into cold ones, and checks that every memory
// stays readable and recallable with the same content, before and after a restart.
func TestTiersSurviveRestart(t *testing.T) {
	root := t.TempDir()
	cfg := tierConfig(t, root)
	e := openTest(t, cfg)
	s := mustSpace(t, e, "default")
	other := mustSpace(t, e, "other-space")
	ctx := context.Background()
	const n = 100
	for i := 0; i < n; i++ {
		if _, err := s.Remember(ctx, Memory{ID: fmt.Sprintf("m%03d", i), Content: tierContent(i), Confidence: 0.8}, RememberOptions{}); err != nil {
			t.Fatalf("remember %d: %v", i, err)
		}
		if i%15 == 14 {
			checkpointNow(t, s)
		}
	}
	checkpointNow(t, s)
	st := s.Stats()
	t.Logf("tiers: hot %d warm %d cold %d", st.Hot, st.Warm, st.Cold)
	if st.Memories != n || st.Hot+st.Warm+st.Cold != n || st.Hot > 20 || st.Warm == 0 && st.Cold == 0 || st.Cold == 0 {
		t.Fatalf("unexpected tier counts: %+v", st)
	}
	if err := s.Forget(ctx, "m000"); err != nil { // oldest: sealed long ago
		t.Fatal(err)
	}
	check := func(s *Space, phase string) {
		t.Helper()
		for i := 1; i < n; i++ {
			id := fmt.Sprintf("m%03d", i)
			m, err := s.Get(id)
			if err != nil || m.Content != tierContent(i) || len(m.Embedding) != 64 {
				t.Fatalf("%s: get %s = %+v, %v", phase, id, m.Content, err)
			}
		}
		if _, err := s.Get("m000"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: forgotten memory is back: %v", phase, err)
		}
		for _, i := range []int{1, 5, 50, 99} {
			res, err := s.Recall(ctx, Cue{Query: fmt.Sprintf("observation %03d detail%d", i, i), Threshold: 0.1, NoReinforce: true})
			if err != nil {
				t.Fatal(err)
			}
			hits := allHits(res)
			if len(hits) == 0 || hits[0].Memory.ID != fmt.Sprintf("m%03d", i) {
				t.Fatalf("%s: recall of m%03d returned %v", phase, i, ids(hits))
			}
		}
		for _, h := range mustList(t, other) {
			t.Fatalf("%s: other space sees %s", phase, h.ID)
		}
	}
	check(s, "before restart")
	before := s.Stats()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e = openTest(t, cfg)
	defer e.Close()
	s, _ = e.Space("default")
	other, _ = e.Space("other-space")
	check(s, "after restart")
	after := s.Stats()
	if after.Memories != before.Memories || after.Warm+after.Cold != before.Warm+before.Cold {
		t.Fatalf("tiers changed across restart: before %+v after %+v", before, after)
	}
	res, err := s.List(ListOptions{Tier: "cold", Limit: 1000})
	if err != nil || len(res.Memories) != after.Cold || res.Cold != after.Cold {
		t.Fatalf("list cold: %d memories, counts %+v, %v", len(res.Memories), res, err)
	}
}

func mustList(t testing.TB, s *Space) []Memory {
	t.Helper()
	var out []Memory
	for {
		res, err := s.List(ListOptions{Offset: len(out), Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Memories...)
		if len(res.Memories) < 1000 {
			return out
		}
	}
}

// TestRecallPromotesToHot: a recalled cold memory returns to the hot tier, durably.
func TestRecallPromotesToHot(t *testing.T) {
	root := t.TempDir()
	cfg := tierConfig(t, root)
	e := openTest(t, cfg)
	s := mustSpace(t, e, "default")
	ctx := context.Background()
	for i := 0; i < 60; i++ {
		if _, err := s.Remember(ctx, Memory{ID: fmt.Sprintf("m%03d", i), Content: tierContent(i), Confidence: 0.8}, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
		if i%15 == 14 {
			checkpointNow(t, s)
		}
	}
	m, err := s.Get("m001")
	if err != nil || m.Tier == TierHot {
		t.Fatalf("m001 should have left the hot tier: %v %v", m.Tier, err)
	}
	if _, err := s.Recall(ctx, Cue{Query: "observation 001 detail1", Threshold: 0.1}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, _ = s.Get("m001")
		if m.Tier == TierHot {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("m001 not promoted: tier %v", m.Tier)
		}
		time.Sleep(10 * time.Millisecond)
	}
	checkCodes(t, s) // remembered, and m001 promoted
	e.Close()
	e = openTest(t, cfg)
	defer e.Close()
	s, _ = e.Space("default")
	if m, err := s.Get("m001"); err != nil || m.Tier != TierHot || m.Content != tierContent(1) || m.AccessCount == 0 {
		t.Fatalf("after restart: %+v %v", m, err)
	}
	checkCodes(t, s) // restored from the checkpoint and the log, m001 promoted
}

// TestDamagedSegmentIsSetAside: a flipped byte in a warm/cold segment is reported at
// recovery, the file is kept as *.broken, and the rest of the space works.
func TestDamagedSegmentIsSetAside(t *testing.T) {
	root := t.TempDir()
	cfg := tierConfig(t, root)
	e := openTest(t, cfg)
	s := mustSpace(t, e, "default")
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		if _, err := s.Remember(ctx, Memory{ID: fmt.Sprintf("m%03d", i), Content: tierContent(i)}, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	checkpointNow(t, s)
	e.Close()
	man, err := tier.LoadManifest(filepath.Join(root, "default"))
	if err != nil || len(man.Segments) == 0 {
		t.Fatalf("manifest: %+v %v", man, err)
	}
	path := filepath.Join(root, "default", man.Segments[0].Name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var mu sync.Mutex
	cfg.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	e = openTest(t, cfg)
	defer e.Close()
	s, _ = e.Space("default")
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	want := fmt.Sprintf("%d corrupted", man.Segments[0].Count)
	if !strings.Contains(out, "Recovered 'default'") || !strings.Contains(out, want) {
		t.Fatalf("recovery log does not report the damage (%s):\n%s", want, out)
	}
	if _, err := os.Stat(path + ".broken"); err != nil {
		t.Fatalf("damaged segment not kept aside: %v", err)
	}
	if got := s.Stats().Memories; got != 30-man.Segments[0].Count {
		t.Fatalf("memories = %d, want %d", got, 30-man.Segments[0].Count)
	}
	if _, err := s.Remember(ctx, Memory{Content: "the space still works"}, RememberOptions{}); err != nil {
		t.Fatal(err)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestCompactionBoundsSlab: a space that keeps demoting reclaims the slab rows of its
// demoted memories, so its hot vectors in RAM stay bounded by the hot capacity.
func TestCompactionBoundsSlab(t *testing.T) {
	cfg := tierConfig(t, t.TempDir())
	cfg.Defaults.Dimension = 16
	cfg.Defaults.HotCapacity, cfg.Defaults.WarmCapacity, cfg.Defaults.ColdCapacity = 2000, 5000, 100000
	cfg.Defaults.WALSync = "never"
	e := openTest(t, cfg)
	defer e.Close()
	s := mustSpace(t, e, "default")
	ctx := context.Background()
	const n = 40000
	compactions := 0
	for done := 0; done < n; done += 1000 {
		batch := make([]Memory, 1000)
		for i := range batch {
			batch[i] = Memory{ID: fmt.Sprintf("m%05d", done+i), Content: tierContent(done + i)}
		}
		if _, errs := s.RememberBatch(ctx, batch, RememberOptions{}); errs[0] != nil {
			t.Fatal(errs[0])
		}
		checkpointNow(t, s)
		st, err := s.acquire()
		if err != nil {
			t.Fatal(err)
		}
		waste := st.slabWaste()
		s.mu.RUnlock()
		if waste > max(cfg.Defaults.HotCapacity, minSlabWaste) {
			s.renumber(st)
			compactions++
		}
		st, _ = s.acquire()
		allocated := st.slab.allocatedRows()
		s.mu.RUnlock()
		if limit := cfg.Defaults.HotCapacity + minSlabWaste + 2*slabChunkRows + 1000; allocated > limit {
			t.Fatalf("after %d memories the slab holds %d rows (limit %d)", done+1000, allocated, limit)
		}
	}
	if compactions == 0 {
		t.Fatal("no compaction happened")
	}
	if got := s.Stats(); got.Memories != n || got.Hot > cfg.Defaults.HotCapacity {
		t.Fatalf("stats after compactions: %+v", got)
	}
	for _, i := range []int{0, 1234, 20000, n - 1} {
		if m, err := s.Get(fmt.Sprintf("m%05d", i)); err != nil || m.Content != tierContent(i) {
			t.Fatalf("m%05d: %+v %v", i, m.Content, err)
		}
	}
}

func TestCheckpointTrigger(t *testing.T) {
	cases := []struct {
		hot, dim int
		want     int64
	}{
		{0, 768, checkpointBytes},
		{1000, 768, checkpointBytes},            // 3 MiB of snapshot: the floor wins
		{100_000, 768, 100_000 * (4*768 + 256)}, // the snapshot is larger than the floor
		{100_000, 16, checkpointBytes},          // small vectors stay under the floor
		{10_000_000, 16, 10_000_000 * (4*16 + 256)},
	}
	for _, c := range cases {
		if got := checkpointTrigger(c.hot, c.dim); got != c.want {
			t.Errorf("checkpointTrigger(%d, %d) = %d, want %d", c.hot, c.dim, got, c.want)
		}
	}
}
