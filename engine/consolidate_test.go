package engine

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestConsolidationFormsSemanticMemories: similar old episodes become one semantic memory
// citing them, returned as "reconstructed", durable across restart, and measured in
// the consolidation rate; young or dissimilar episodes are left alone.
func TestConsolidationFormsSemanticMemories(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	root := t.TempDir()
	cfg := testConfig(t, root)
	cfg.Defaults.Dimension = 256
	cfg.Consolidation = ConsolidationConfig{MinAge: time.Hour}
	cfg.Now = func() time.Time { return now }
	e := openTest(t, cfg)
	s := mustSpace(t, e, "default")
	other := mustSpace(t, e, "other-space")
	ctx := context.Background()
	old := now.Add(-3 * time.Hour)
	for i := 0; i < 4; i++ {
		m := Memory{ID: fmt.Sprintf("coffee-%d", i), Content: fmt.Sprintf("morning coffee with oat milk at the corner cafe day %d", i), Confidence: 0.8, ObservedAt: old.Add(time.Duration(i) * time.Minute)}
		if _, err := s.Remember(ctx, m, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Remember(ctx, m, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Remember(ctx, Memory{ID: "tax", Content: "filed the quarterly tax return", Confidence: 0.8, ObservedAt: old}, RememberOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remember(ctx, Memory{ID: "fresh-coffee", Content: "morning coffee with oat milk at the corner cafe today", Confidence: 0.8, ObservedAt: now}, RememberOptions{}); err != nil {
		t.Fatal(err)
	}
	n, err := s.Consolidate(ctx)
	if err != nil || n != 1 {
		t.Fatalf("consolidate = %d, %v; want 1", n, err)
	}
	if again, _ := s.Consolidate(ctx); again != 0 {
		t.Fatalf("episodes consolidated twice: %d", again)
	}
	var sem *Memory
	for _, m := range mustList(t, s) {
		if m.Type == Semantic {
			m := m
			sem = &m
		}
	}
	if sem == nil || len(sem.Citations) != 4 || sem.Citations[0] != "coffee-0" {
		t.Fatalf("semantic memory: %+v", sem)
	}
	for _, c := range sem.Citations {
		if c == "tax" || c == "fresh-coffee" {
			t.Fatalf("cited %s", c)
		}
	}
	if r := s.Stats().ConsolidationRate; r <= 0 {
		t.Fatalf("consolidation rate = %v", r)
	}
	if r := other.Stats().ConsolidationRate; r != 0 {
		t.Fatalf("other space's rate = %v", r)
	}
	res, err := s.Recall(ctx, Cue{Query: "coffee oat milk cafe", Threshold: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Reconstructed) == 0 || res.Reconstructed[0].Memory.ID != sem.ID {
		t.Fatalf("reconstructed = %v", ids(res.Reconstructed))
	}
	e.Close()
	e = openTest(t, cfg)
	defer e.Close()
	s, _ = e.Space("default")
	got, err := s.Get(sem.ID)
	if err != nil || len(got.Citations) != 4 || got.Type != Semantic {
		t.Fatalf("after restart: %+v %v", got, err)
	}
	if again, _ := s.Consolidate(ctx); again != 0 {
		t.Fatalf("episodes consolidated again after restart: %d", again)
	}
}
