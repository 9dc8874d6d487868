package client_test

import (
	"errors"
	"testing"
	"time"

	"github.com/engram-go/engram/client"
)

// nearVector returns a unit-ish vector of dimension 64 close to the all-ones direction,
// nudged by i: vectors of different i are similar enough to consolidate together.
func nearVector(i int) []float32 {
	v := make([]float32, 64)
	for j := range v {
		v[j] = 1
	}
	v[i%64] += 0.05
	return v
}

// TestClientCognitiveAgainstTheBinary calls each cognitive, introspection and maintenance
// method on the real server: a success checked against what was stored, the typed error
// of a refusal, and another space that sees none of it.
func TestClientCognitiveAgainstTheBinary(t *testing.T) {
	srv := startServer(t, "")
	ctx := withTimeout(t)
	c := newClient(t, srv.addr, client.WithSpace("alpha"))
	beta := c.Space("beta")
	day := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, e := range []client.EpisodeRequest{
		{ID: "c1", What: "sailing lesson at the harbour", When: day, WhereLocation: "Old Harbour", Who: []string{"Ana", "Ben"}, Tags: []string{"sea"}},
		{ID: "c2", What: "tax forms for the accountant", When: day.Add(72 * time.Hour), WhereLocation: "Office", Who: []string{"Dana"}},
	} {
		if _, err := c.RememberEpisode(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := beta.Remember(ctx, client.RememberRequest{ID: "b1", Content: "beta keeps its own notes"}); err != nil {
		t.Fatal(err)
	}
	isAPI := func(t *testing.T, what string, err, want error, code string) {
		t.Helper()
		var apiErr *client.Error
		if !errors.Is(err, want) || !errors.As(err, &apiErr) || apiErr.Code != code || apiErr.Message == "" {
			t.Fatalf("%s: %v, want %v with code %s", what, err, want, code)
		}
	}

	t.Run("Complete", func(t *testing.T) {
		cue := client.CompleteRequest{KnownFields: map[string]string{"what": "sailing lesson at the harbour", "when": day.Format(time.RFC3339)},
			MissingFields: []string{"where_location"}}
		got, err := c.Complete(ctx, cue)
		if err != nil || got.CompletedEpisode["where_location"] != "Old Harbour" || len(got.Fields) != 1 ||
			got.Fields[0].Source != client.SourceRecalled || got.Fields[0].SourceMemories[0] != "c1" || got.MemorySpaceID != "alpha" {
			t.Fatalf("Complete: %+v, %v", got, err)
		}
		_, err = beta.Complete(ctx, cue) // beta holds nothing that supports it
		isAPI(t, "beta Complete", err, client.ErrValidation, "MEMORY_VALIDATION_ERROR")
		_, err = c.Complete(ctx, client.CompleteRequest{MissingFields: []string{"where_location"}})
		isAPI(t, "Complete without a known field", err, client.ErrInvalidInput, "INVALID_MEMORY_INPUT")
	})

	t.Run("Recognize", func(t *testing.T) {
		got, err := c.Recognize(ctx, client.RecognizeRequest{Content: "sailing lesson at the harbour"})
		if err != nil || !got.Recognized || len(got.SimilarMemories) == 0 || got.SimilarMemories[0].ID != "c1" || got.FamiliarityScore < 0.7 {
			t.Fatalf("Recognize: %+v, %v", got, err)
		}
		got, err = beta.Recognize(ctx, client.RecognizeRequest{Content: "sailing lesson at the harbour"})
		if err != nil || got.Recognized || len(got.SimilarMemories) != 0 && got.SimilarMemories[0].ID == "c1" {
			t.Fatalf("beta recognizes alpha's memory: %+v, %v", got, err)
		}
		_, err = c.Recognize(ctx, client.RecognizeRequest{})
		isAPI(t, "Recognize nothing", err, client.ErrInvalidInput, "INVALID_MEMORY_INPUT")
	})

	t.Run("Associate", func(t *testing.T) {
		got, err := c.Associate(ctx, client.AssociateRequest{SourceMemory: "c1", TargetMemory: "c2", Strength: f32(0.4), AssociationType: "causal"})
		if err != nil || !got.Created || got.FinalStrength != 0.4 || got.PreviousStrength != 0 || got.MemorySpaceID != "alpha" {
			t.Fatalf("Associate: %+v, %v", got, err)
		}
		got, err = c.Associate(ctx, client.AssociateRequest{SourceMemory: "c2", TargetMemory: "c1", Strength: f32(0.5)})
		if err != nil || got.Created || got.PreviousStrength != 0.4 || got.FinalStrength < 0.69 || got.FinalStrength > 0.71 {
			t.Fatalf("Associate again: %+v, %v", got, err)
		}
		as, err := c.Associations(ctx, "c1")
		found := false
		for _, a := range as.Associations {
			found = found || a.TargetMemoryID == "c2" && a.Kind == "association"
		}
		if err != nil || !found {
			t.Fatalf("Associations after Associate: %+v, %v", as, err)
		}
		_, err = beta.Associate(ctx, client.AssociateRequest{SourceMemory: "c1", TargetMemory: "b1"})
		isAPI(t, "beta Associate of alpha's memory", err, client.ErrMemoryNotFound, "MEMORY_NOT_FOUND")
	})

	t.Run("Replay", func(t *testing.T) {
		around := day.Add(time.Hour)
		got, err := c.Replay(ctx, client.ReplayRequest{Around: &around, Window: 2 * time.Hour, IncludeEmotional: true})
		if err != nil || len(got.Episodes) != 1 || got.Episodes[0].ID != "c1" || got.Episodes[0].Episode == nil ||
			got.Episodes[0].Episode.WhereLocation != "Old Harbour" || !(got.Episodes[0].Retention > 0 && got.Episodes[0].Retention <= 1) ||
			got.EmotionalSummary == nil || len(got.MemoryThemes) != 1 || got.MemoryThemes[0] != "sea" {
			t.Fatalf("Replay: %+v, %v", got, err)
		}
		got, err = c.Replay(ctx, client.ReplayRequest{Who: []string{"dana"}})
		if err != nil || len(got.Episodes) != 1 || got.Episodes[0].ID != "c2" || got.EmotionalSummary != nil {
			t.Fatalf("Replay who: %+v, %v", got, err)
		}
		if got, err := beta.Replay(ctx, client.ReplayRequest{Who: []string{"dana"}}); err != nil || len(got.Episodes) != 0 || got.MemorySpaceID != "beta" {
			t.Fatalf("beta Replay: %+v, %v", got, err)
		}
		_, err = c.Replay(ctx, client.ReplayRequest{})
		var apiErr *client.Error
		if !errors.As(err, &apiErr) || apiErr.Status != 400 {
			t.Fatalf("Replay without a cue: %v, want a 400", err)
		}
	})

	t.Run("ConsolidateNow", func(t *testing.T) {
		g := c.Space("gamma")
		sub, err := g.Subscribe(ctx, client.StreamConsolidation, client.StreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		old := time.Now().Add(-3 * time.Hour)
		for i, s := range []string{"rain on the tin roof", "rain again on the roof", "the roof in the rain"} {
			if _, err := g.Remember(ctx, client.RememberRequest{ID: "r" + string(rune('0'+i)), Content: s, Embedding: nearVector(i), Timestamp: &old}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := g.ConsolidateNow(ctx, time.Time{})
		if err != nil || len(got.Formed) != 1 || got.MemoriesConsolidated != 3 || got.NewAssociations != 3 ||
			got.StateChanges["r0"] != "Consolidated" || len(got.Formed[0].Citations) != 3 || got.MemorySpaceID != "gamma" {
			t.Fatalf("ConsolidateNow: %+v, %v", got, err)
		}
		m, err := sub.Next()
		if err != nil || m.Event == nil || m.Event.Type != "consolidation" || m.Event.MemoryID != got.Formed[0].ID || m.Event.MemorySpaceID != "gamma" {
			t.Fatalf("consolidation stream: %+v, %v", m, err)
		}
		if again, err := g.ConsolidateNow(ctx, time.Time{}); err != nil || len(again.Formed) != 0 {
			t.Fatalf("ConsolidateNow again: %+v, %v", again, err)
		}
		if cons, err := beta.Consolidations(ctx); err != nil || len(cons.Beliefs) != 0 {
			t.Fatalf("beta sees gamma's beliefs: %+v, %v", cons, err)
		}
		if got, err := c.ConsolidateNow(ctx, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil || len(got.Formed) != 0 {
			t.Fatalf("ConsolidateNow of nothing old enough: %+v, %v", got, err)
		}
	})

	t.Run("Introspect", func(t *testing.T) {
		got, err := c.Introspect(ctx, client.IntrospectOptions{})
		if err != nil || got.Metrics["memories"] != 2 || got.Metrics["memories_episodic"] != 2 || got.Health == nil ||
			!got.Health.Components["wal"].Operational || got.Statistics == nil || got.Statistics.TotalMemories != 2 || got.MemorySpaceID != "alpha" {
			t.Fatalf("Introspect: %+v, %v", got, err)
		}
		got, err = beta.Introspect(ctx, client.IntrospectOptions{Metrics: []string{"memories"}, SkipHealth: true, SkipStatistics: true})
		if err != nil || len(got.Metrics) != 1 || got.Metrics["memories"] != 1 || got.Health != nil || got.Statistics != nil {
			t.Fatalf("beta Introspect: %+v, %v", got, err)
		}
		_, err = c.Introspect(ctx, client.IntrospectOptions{Metrics: []string{"happiness"}})
		isAPI(t, "Introspect of an unknown metric", err, client.ErrInvalidInput, "INVALID_MEMORY_INPUT")
	})

	t.Run("Compact", func(t *testing.T) {
		got, err := c.Compact(ctx)
		if err != nil || got.Before.Memories != 2 || got.After.Memories != 2 || got.After.Hot+got.After.Warm+got.After.Cold != 2 || got.MemorySpaceID != "alpha" {
			t.Fatalf("Compact: %+v, %v", got, err)
		}
		if b, err := beta.Compact(ctx); err != nil || b.After.Memories != 1 {
			t.Fatalf("beta Compact: %+v, %v", b, err)
		}
		_, err = c.Space("nowhere").Compact(ctx)
		isAPI(t, "Compact of an unknown space", err, client.ErrSpaceNotFound, "SPACE_NOT_FOUND")
		if _, err := c.GetSpace(ctx, "nowhere"); !errors.Is(err, client.ErrSpaceNotFound) {
			t.Fatalf("Compact created the space: %v", err)
		}
	})

	t.Run("Query", func(t *testing.T) {
		got, err := c.Query(ctx, `RECALL "sailing harbour" LIMIT 5`)
		if err != nil || got.Verb != "RECALL" || got.TotalCount == 0 || got.Memories[0].ID != "c1" {
			t.Fatalf("Query: %+v, %v", got, err)
		}
		if got, err := beta.Query(ctx, `RECALL "sailing harbour" LIMIT 5`); err != nil || got.TotalCount != 0 {
			t.Fatalf("beta Query: %+v, %v", got, err)
		}
		_, err = c.Query(ctx, `IMAGINE "rain"`)
		isAPI(t, "Query IMAGINE", err, client.ErrNotImplemented, "NOT_IMPLEMENTED")
	})

	t.Run("Spreading", func(t *testing.T) {
		cfg, err := c.SpreadingConfig(ctx)
		if err != nil || cfg.MaxSpreadHops < cfg.QuerySpread.MaxHops || cfg.QuerySpread.MaxHops < 1 || cfg.CrossesSpaces {
			t.Fatalf("SpreadingConfig: %+v, %v", cfg, err)
		}
		h, err := c.SpreadingHealth(ctx)
		if err != nil || h.Status != "healthy" || h.OpenSpaces < 3 || h.FailedSpaces != 0 {
			t.Fatalf("SpreadingHealth: %+v, %v", h, err)
		}
	})

	t.Run("MonitoringStreams", func(t *testing.T) {
		acts, err := c.Subscribe(ctx, client.StreamMonitorActivations, client.StreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer acts.Close()
		all, err := c.Subscribe(ctx, client.StreamMonitorEvents, client.StreamOptions{EventTypes: []string{"storage"}})
		if err != nil {
			t.Fatal(err)
		}
		defer all.Close()
		// beta's write comes first: alpha's streams must skip it.
		if _, err := beta.Remember(ctx, client.RememberRequest{ID: "b2", Content: "sailing in beta"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Remember(ctx, client.RememberRequest{ID: "a3", Content: "sailing again"}); err != nil {
			t.Fatal(err)
		}
		if m, err := all.Next(); err != nil || m.Event == nil || m.Event.Type != "storage" || m.Event.MemoryID != "a3" || m.Event.MemorySpaceID != "alpha" {
			t.Fatalf("monitoring events: %+v, %v", m, err)
		}
		if _, err := c.Recall(ctx, client.RecallRequest{Query: "sailing lesson at the harbour"}); err != nil {
			t.Fatal(err)
		}
		m, err := acts.Next()
		if err != nil || m.Event == nil || (m.Event.Type != "retrieval" && m.Event.Type != "activation") || m.Event.MemorySpaceID != "alpha" {
			t.Fatalf("monitoring activations: %+v, %v", m, err)
		}
		if _, err := c.Subscribe(ctx, "monitoring/nothing", client.StreamOptions{}); err == nil {
			t.Fatal("Subscribe accepted an unknown stream")
		}
		_, err = c.Subscribe(ctx, client.StreamMonitorCausality, client.StreamOptions{EventTypes: []string{"storage"}})
		isAPI(t, "causality stream filtered on storage", err, client.ErrBadRequest, "BAD_REQUEST")
	})
}
