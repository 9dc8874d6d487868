package engine

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCompleteFillsBlankedFields(t *testing.T) {
	e := openTest(t, testConfig(t, t.TempDir()))
	defer e.Close()
	ctx := context.Background()
	s := mustSpace(t, e, "default")
	other := mustSpace(t, e, "other")
	day := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, m := range []Memory{
		{ID: "e1", Content: "sailing lesson at the harbour", ObservedAt: day, Type: Episodic, Confidence: 0.9, Tags: []string{"sea"},
			Episode: &Episode{Where: "Old Harbour", Who: []string{"Ana", "Ben"}, Why: "to learn to sail"}},
		{ID: "e2", Content: "tax forms for the accountant", ObservedAt: day.Add(48 * time.Hour), Type: Episodic, Confidence: 0.8,
			Episode: &Episode{Where: "Office", Who: []string{"Dana"}, How: "by post"}},
		{ID: "e3", Content: "second sailing lesson at the harbour", ObservedAt: day.Add(24 * time.Hour), Type: Episodic, Confidence: 0.9,
			Episode: &Episode{Where: "Marina", Who: []string{"Ana"}}},
	} {
		if _, err := s.Remember(ctx, m, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.Remember(ctx, Memory{ID: "o1", Content: "sailing lesson at the harbour", Type: Episodic,
		Episode: &Episode{Where: "Elsewhere"}}, RememberOptions{}); err != nil {
		t.Fatal(err)
	}

	c, err := s.Complete(ctx, CompletionRequest{Known: map[string]string{"what": "sailing lesson at the harbour", "when": day.Format(time.RFC3339)},
		Missing: []string{"where", "who", "why"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]FieldCompletion{}
	for _, f := range c.Fields {
		got[f.Field] = f
	}
	if w := got[FieldWhere]; w.Value != "Old Harbour" || w.Source != SourceRecalled || w.Memories[0] != "e1" || len(w.Alternatives) == 0 || w.Alternatives[0].Value != "Marina" {
		t.Fatalf("where_location = %+v", w)
	}
	if w := got[FieldWho]; w.Value != "Ana, Ben" {
		t.Fatalf("who = %+v", w)
	}
	if w := got[FieldWhy]; w.Value != "to learn to sail" || w.Confidence < DefaultCompletionThreshold {
		t.Fatalf("why = %+v", w)
	}
	if c.Confidence <= 0 || c.Confidence > 1 || len(c.Evidence) == 0 || c.Evidence[0].Memory.ID != "e1" {
		t.Fatalf("completion %+v", c)
	}

	for _, tt := range []struct {
		name string
		req  CompletionRequest
		want error
	}{
		{"nothing stored supports it", CompletionRequest{Known: map[string]string{"what": "quantum chromodynamics lecture"}, Missing: []string{"where"}}, ErrInsufficientEvidence},
		{"a field nobody holds", CompletionRequest{Known: map[string]string{"what": "tax forms for the accountant"}, Missing: []string{"why"}}, ErrInsufficientEvidence},
		{"no known field", CompletionRequest{Missing: []string{"where"}}, ErrInvalidInput},
		{"unknown field", CompletionRequest{Known: map[string]string{"colour": "red"}}, ErrInvalidInput},
		{"empty value", CompletionRequest{Known: map[string]string{"what": " "}}, ErrInvalidInput},
		{"bad time", CompletionRequest{Known: map[string]string{"when": "yesterday"}}, ErrInvalidInput},
		{"known and missing", CompletionRequest{Known: map[string]string{"what": "x"}, Missing: []string{"what"}}, ErrInvalidInput},
		{"threshold", CompletionRequest{Known: map[string]string{"what": "x"}, Threshold: 2}, ErrInvalidInput},
	} {
		if _, err := s.Complete(ctx, tt.req); !errors.Is(err, tt.want) {
			t.Fatalf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	c, err = other.Complete(ctx, CompletionRequest{Known: map[string]string{"what": "sailing lesson at the harbour"}, Missing: []string{"where"}})
	if err != nil || c.Fields[0].Value != "Elsewhere" {
		t.Fatalf("other space completes from %+v (%v)", c, err)
	}
}

func TestConsolidateInto(t *testing.T) {
	e := openTest(t, testConfig(t, t.TempDir()))
	defer e.Close()
	ctx := context.Background()
	s := mustSpace(t, e, "default")
	for i, id := range []string{"a", "b", "c"} {
		if _, err := s.Remember(ctx, Memory{ID: id, Content: "walk number " + id, Embedding: unit(16, i), Type: Episodic}, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Remember(ctx, Memory{ID: "fact", Content: "a fact", Type: Semantic}, RememberOptions{}); err != nil {
		t.Fatal(err)
	}
	m, err := s.ConsolidateInto(ctx, []string{"c", "a", "b", "a"}, "walks")
	if err != nil || m.ID != "walks" || m.Type != Semantic || len(m.Citations) != 3 || m.Citations[0] != "a" {
		t.Fatalf("ConsolidateInto = %+v, %v", m, err)
	}
	got, err := s.Get("walks")
	if err != nil || len(got.Citations) != 3 {
		t.Fatalf("stored %+v, %v", got, err)
	}
	assoc, err := s.Associations("walks")
	if err != nil || len(assoc) != 3 || assoc[0].Kind != "consolidation" {
		t.Fatalf("edges of walks: %+v, %v", assoc, err)
	}
	for _, tt := range []struct {
		name string
		eps  []string
		into string
		want error
	}{
		{"one episode", []string{"a", "a"}, "x", ErrInsufficientEvidence},
		{"existing id", []string{"a", "b"}, "walks", ErrInvalidInput},
		{"bad id", []string{"a", "b"}, "x y", ErrInvalidInput},
		{"missing episode", []string{"a", "nope"}, "x", ErrNotFound},
		{"not an episode", []string{"a", "fact"}, "x", ErrInvalidInput},
	} {
		if _, err := s.ConsolidateInto(ctx, tt.eps, tt.into); !errors.Is(err, tt.want) {
			t.Fatalf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}
