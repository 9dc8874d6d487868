package engine

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestAssociateStrengthensAndSurvivesReopen creates an explicit edge between two
// unrelated memories, strengthens it, follows it by spreading, and finds it again after
// the engine is reopened from the WAL; another space never sees it.
func TestAssociateStrengthensAndSurvivesReopen(t *testing.T) {
	root := t.TempDir()
	cfg := testConfig(t, root)
	e := openTest(t, cfg)
	ctx := context.Background()
	s := mustSpace(t, e, "default")
	other := mustSpace(t, e, "other")
	for i, id := range []string{"a", "b", "c"} {
		// Orthogonal vectors hours apart: the linker makes no similarity or temporal edge.
		m := Memory{ID: id, Content: "memory " + id, Embedding: unit(16, i), ObservedAt: time.Now().Add(-time.Duration(3*i+1) * time.Hour)}
		if _, err := s.Remember(ctx, m, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.Remember(ctx, Memory{ID: "a", Content: "other a", Embedding: unit(16, 0)}, RememberOptions{}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		src, dst      string
		strength      float32
		created       bool
		previous, now float32
	}{
		{"a", "b", 0.4, true, 0, 0.4},
		{"b", "a", 0.5, false, 0.4, 0.7},
		{"a", "c", 0, true, 0, DefaultAssociationStrength},
	}
	for _, st := range steps {
		got, err := s.Associate(ctx, st.src, st.dst, st.strength)
		if err != nil || got.Created != st.created || !near(got.Previous, st.previous) || !near(got.Strength, st.now) {
			t.Fatalf("Associate(%s, %s, %v) = %+v, %v; want created %v, %v -> %v", st.src, st.dst, st.strength, got, err, st.created, st.previous, st.now)
		}
	}
	for _, bad := range []struct {
		src, dst string
		strength float32
		want     error
	}{
		{"a", "a", 0.5, ErrInvalidInput},
		{"a", "b", 1.5, ErrInvalidInput},
		{"a", "b", -1, ErrInvalidInput},
		{"a", "bad id", 0.5, ErrInvalidInput},
		{"a", "missing", 0.5, ErrNotFound},
	} {
		if _, err := s.Associate(ctx, bad.src, bad.dst, bad.strength); !errors.Is(err, bad.want) {
			t.Fatalf("Associate(%s, %s, %v): %v, want %v", bad.src, bad.dst, bad.strength, err, bad.want)
		}
	}
	if _, err := other.Associate(ctx, "a", "b", 0.5); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other space associates with a memory it does not hold: %v", err)
	}
	check := func(s *Space) {
		t.Helper()
		acts, err := s.Spread(ctx, []string{"a"}, SpreadParams{Decay: 1, Threshold: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float32{}
		for _, a := range acts {
			got[a.ID] = a.Level
		}
		if len(got) != 2 || !near(got["b"], 0.7) || !near(got["c"], 0.5) {
			t.Fatalf("spread from a reached %v, want b 0.7 and c 0.5", got)
		}
	}
	check(s)
	if acts, err := other.Spread(ctx, []string{"a"}, SpreadParams{}); err != nil || len(acts) != 0 {
		t.Fatalf("other space spreads to %v (%v)", acts, err)
	}
	e.Close()

	e = openTest(t, cfg)
	defer e.Close()
	s, _ = e.Space("default")
	check(s)
}

func unit(dim, i int) []float32 {
	v := make([]float32, dim)
	v[i] = 1
	return v
}

func near(a, b float32) bool { return a-b < 1e-5 && b-a < 1e-5 }
