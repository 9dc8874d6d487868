package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestE2EEpisodes drives episodic recall through the binary: GET /api/v1/episodes/replay
// and gRPC Reminisce by time, place, people and topic, and gRPC Experience with context
// links that spreading then follows; another space sees none of it and bad cues are
// refused before anything is stored.
func TestE2EEpisodes(t *testing.T) {
	r := startE2E(t)
	call := r.call
	day := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, e := range []map[string]any{
		{"id": "e1", "what": "sailing lesson at the harbour", "when": day.Add(-3 * time.Hour), "where": "Old Harbour", "who": []string{"Ana", "Ben"}, "emotional_valence": 0.8, "tags": []string{"sea"}},
		{"id": "e2", "what": "lunch by the harbour wall", "when": day, "where": "old harbour", "who": []string{"Cleo"}, "emotional_valence": 0.0, "tags": []string{"food", "sea"}},
		{"id": "e3", "what": "train home in the rain", "when": day.Add(5 * time.Hour), "where": "Station", "who": []string{"ana"}, "emotional_valence": -0.6},
	} {
		if code, out := call(http.MethodPost, "/api/v1/episodes/remember", "ep-a", e); code != http.StatusCreated {
			t.Fatalf("episode: %d %v", code, out)
		}
	}
	if code, out := call(http.MethodPost, "/api/v1/episodes/remember", "ep-b", map[string]any{"id": "b1", "what": "harbour in another space", "when": day, "where": "Old Harbour", "who": []string{"Ana"}}); code != http.StatusCreated {
		t.Fatalf("episode: %d %v", code, out)
	}
	ids := func(out map[string]any) string {
		var s []string
		list, _ := out["episodes"].([]any)
		for _, e := range list {
			s = append(s, e.(map[string]any)["id"].(string))
		}
		return strings.Join(s, ",")
	}
	ts := func(t time.Time) string { return url.QueryEscape(t.Format(time.RFC3339)) }
	for _, tt := range []struct{ space, query, want string }{
		{"ep-a", "where=harbour", "e1,e2"},
		{"ep-a", "who=ANA", "e1,e3"},
		{"ep-a", "who=Cleo,Ben", "e1,e2"},
		{"ep-a", "around=" + ts(day.Add(4*time.Hour)) + "&window=6h", "e3,e2"},
		{"ep-a", "around=" + ts(day), "e2,e1,e3"},
		{"ep-a", "from=" + ts(day.Add(-time.Hour)) + "&to=" + ts(day.Add(time.Hour)), "e2"},
		{"ep-a", "topic=sailing+lesson", "e1"},
		{"ep-a", "where=harbour&limit=1", "e1"},
		{"ep-b", "where=harbour", "b1"},
		{"ep-b", "who=Ben", ""},
		{"ep-none", "where=harbour", ""},
	} {
		code, out := call(http.MethodGet, "/api/v1/episodes/replay?"+tt.query, tt.space, nil)
		if code != http.StatusOK || ids(out) != tt.want || out["memory_space_id"] != tt.space {
			t.Fatalf("replay?%s in %s: %d %q, want %q (%v)", tt.query, tt.space, code, ids(out), tt.want, out)
		}
	}
	code, out := call(http.MethodGet, "/api/v1/episodes/replay?where=harbour&include_emotional=true", "ep-a", nil)
	emo, _ := out["emotional_summary"].(map[string]any)
	themes, _ := out["memory_themes"].([]any)
	if code != http.StatusOK || emo["positive"] != 0.5 || emo["neutral"] != 0.5 || len(themes) == 0 || themes[0] != "sea" {
		t.Fatalf("replay with the emotional summary: %d %v", code, out)
	}
	first := out["episodes"].([]any)[0].(map[string]any)
	if ep, _ := first["episode"].(map[string]any); ep["where_location"] != "Old Harbour" || first["retention"] == nil {
		t.Fatalf("replayed episode %v", first)
	}
	for _, q := range []string{"", "around=yesterday", "where=x&window=-1h", "where=x&limit=0", "from=" + ts(day) + "&to=" + ts(day.Add(-time.Hour)), "where=x&include_emotional=maybe"} {
		code, out := call(http.MethodGet, "/api/v1/episodes/replay?"+q, "ep-a", nil)
		if code != http.StatusBadRequest || out["error"] == nil {
			t.Fatalf("replay?%s: %d %v", q, code, out)
		}
	}

	client, ctx := r.grpc()
	rem, err := client.Reminisce(ctx, &pb.ReminisceRequest{MemorySpaceId: "ep-a", Cue: &pb.ReminisceRequest_WithPeople{WithPeople: &pb.PeopleList{People: []string{"ana"}}}, IncludeEmotional: true})
	if err != nil || len(rem.GetEpisodes()) != 2 || rem.GetEpisodes()[0].GetId() != "e1" || rem.GetEpisodes()[0].GetWhereLocation() != "Old Harbour" ||
		rem.GetEmotionalSummary()["negative"] != 0.5 || !strings.Contains(rem.GetRecallVividness().GetReasoning(), "2 episodes") {
		t.Fatalf("gRPC Reminisce with Ana: %v %v", rem, err)
	}
	rem, err = client.Reminisce(ctx, &pb.ReminisceRequest{MemorySpaceId: "ep-b", Cue: &pb.ReminisceRequest_AroundTime{AroundTime: timestamppb.New(day)}})
	if err != nil || len(rem.GetEpisodes()) != 1 || rem.GetEpisodes()[0].GetId() != "b1" || rem.GetEmotionalSummary() != nil {
		t.Fatalf("gRPC Reminisce in ep-b: %v %v", rem, err)
	}
	if _, err := client.Reminisce(ctx, &pb.ReminisceRequest{MemorySpaceId: "ep-a"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("gRPC Reminisce without a cue: %v", err)
	}

	exp, err := client.Experience(ctx, &pb.ExperienceRequest{MemorySpaceId: "ep-a", ContextLinks: []string{"e1", "e3"},
		Episode: &pb.Episode{Id: "e4", What: "dinner after sailing", When: timestamppb.New(day.Add(6 * time.Hour)), WhereLocation: "Old Harbour", Who: []string{"Ana"}}})
	if err != nil || exp.GetEpisodeId() != "e4" || exp.GetContextLinksCreated() != 2 || exp.GetState() != pb.ConsolidationState_CONSOLIDATION_STATE_RECENT {
		t.Fatalf("gRPC Experience: %v %v", exp, err)
	}
	code, out = call(http.MethodPost, "/api/v1/query", "ep-a", map[string]any{"query": "SPREAD FROM e4 MAX_HOPS 1 DECAY 1 THRESHOLD 0.45"})
	var reached []string
	for _, m := range out["memories"].([]any) {
		reached = append(reached, m.(map[string]any)["id"].(string))
	}
	if code != http.StatusOK || !strings.Contains(strings.Join(reached, ","), "e1") || !strings.Contains(strings.Join(reached, ","), "e3") {
		t.Fatalf("spread from the experienced episode: %d %v", code, out)
	}
	for _, tt := range []struct {
		space string
		links []string
		code  codes.Code
	}{
		{"ep-b", []string{"e1"}, codes.NotFound},   // a memory of another space
		{"ep-a", []string{"nope"}, codes.NotFound}, // no such memory
		{"ep-a", []string{"bad id"}, codes.InvalidArgument},
	} {
		_, err := client.Experience(ctx, &pb.ExperienceRequest{MemorySpaceId: tt.space, ContextLinks: tt.links,
			Episode: &pb.Episode{Id: "e5", What: "never stored", When: timestamppb.New(day)}})
		if status.Code(err) != tt.code {
			t.Fatalf("gRPC Experience linking %v in %s: %v, want %v", tt.links, tt.space, err, tt.code)
		}
		if code, _ := call(http.MethodGet, "/api/v1/memories/e5", tt.space, nil); code != http.StatusNotFound {
			t.Fatalf("a refused Experience stored e5 in %s", tt.space)
		}
	}
}
