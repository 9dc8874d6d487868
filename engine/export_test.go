package engine

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// TestExportImportRoundTrip exports a space and imports it into another with Preserve:
// every field of every memory comes back identical, and the source space is unchanged.
func TestExportImportRoundTrip(t *testing.T) {
	e := openTest(t, testConfig(t, t.TempDir()))
	defer e.Close()
	src := mustSpace(t, e, "source")
	dst := mustSpace(t, e, "target")
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	in := []Memory{
		{ID: "a", Content: "alpha fact", Confidence: 0.9, Tags: []string{"x"}, ObservedAt: t0, Embedding: zeroPadded(16, 1, 2)},
		{ID: "b", Content: "bravo episode", Confidence: 0.4, ObservedAt: t0.Add(time.Hour), Episode: &Episode{Where: "here", Who: []string{"ann"}, Importance: 0.5}},
		{ID: "c", Content: "charlie rule", Confidence: 0.6, Type: Procedural, ObservedAt: t0.Add(2 * time.Hour)},
	}
	for _, m := range in {
		if _, err := src.Remember(ctx, m, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.Recall(ctx, Cue{Query: "alpha fact"}); err != nil { // reinforce "a"
		t.Fatal(err)
	}
	var exported []Memory
	if err := src.Export(ctx, func(m Memory) error { exported = append(exported, m); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(exported) != 3 || exported[0].ID != "a" || exported[0].AccessCount == 0 {
		t.Fatalf("export: %+v", exported)
	}
	_, errs := dst.RememberBatch(ctx, append([]Memory(nil), exported...), RememberOptions{Preserve: true})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range exported {
		got, err := dst.Get(want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("imported memory differs:\n got %+v\nwant %+v", got, want)
		}
	}
	if n := src.Stats().Memories; n != 3 {
		t.Fatalf("source changed: %d memories", n)
	}
}
