package main

import (
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestE2EDream streams a dream through the binary: replayed sequences of the space's own
// episodes in the order they happened, an insight for the pattern consolidation finds,
// and a final progress report; the stream ends by itself, another space's dream shows
// none of it, and out-of-range requests are refused.
func TestE2EDream(t *testing.T) {
	r := startE2E(t)
	srv, hc := r.srv, r.hc
	rng := rand.New(rand.NewPCG(8, 1))
	a := e2eVector(rng, nil, 1)
	start := time.Now().Add(-5 * time.Hour)
	for i := range 10 {
		emb := e2eVector(rng, nil, 1)
		if i < 3 {
			emb = e2eVector(rng, a, 0.05) // d0-d2 form a cluster
		}
		m := map[string]any{"id": "d" + string(rune('0'+i)), "content": "dream episode " + string(rune('0'+i)), "embedding": emb,
			"timestamp": start.Add(time.Duration(i) * time.Minute).UTC().Format(time.RFC3339)}
		if code, out := callJSON(t, hc, http.MethodPost, "http://"+srv.http+"/api/v1/memories/remember", "dr-a", m); code != http.StatusCreated {
			t.Fatalf("remember: %d %v", code, out)
		}
	}
	if code, out := callJSON(t, hc, http.MethodPost, "http://"+srv.http+"/api/v1/memories/remember", "dr-b", map[string]any{"id": "other", "content": "b"}); code != http.StatusCreated {
		t.Fatalf("remember: %d %v", code, out)
	}

	client, ctx := r.grpc()
	collect := func(req *pb.DreamRequest) ([]*pb.DreamResponse, error) {
		st, err := client.Dream(ctx, req)
		if err != nil {
			return nil, err
		}
		var out []*pb.DreamResponse
		for {
			r, err := st.Recv()
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			if err != nil {
				return out, err
			}
			out = append(out, r)
		}
	}
	got, err := collect(&pb.DreamRequest{MemorySpaceId: "dr-a", ReplayCycles: 2, GenerateInsights: true})
	if err != nil {
		t.Fatal(err)
	}
	// Two cycles replay at most 16 episodes: the 10 make a sequence of 8 and one of 2.
	if len(got) != 4 {
		t.Fatalf("dream of dr-a: %d messages %v", len(got), got)
	}
	first, second := got[0].GetReplay(), got[1].GetReplay()
	if len(first.GetMemoryIds()) != 8 || first.GetMemoryIds()[0] != "d0" || first.GetMemoryIds()[7] != "d7" || len(second.GetMemoryIds()) != 2 ||
		first.GetSequenceNovelty() >= 1 || first.GetNarrative() == "" {
		t.Fatalf("replays %v / %v", first, second)
	}
	ins := got[2].GetInsight()
	if ins == nil || len(ins.GetConnectedMemories()) != 3 || ins.GetSuggestedAction() == "" {
		t.Fatalf("insight %v", got[2])
	}
	if p := got[3].GetProgress(); p == nil || p.GetMemoriesReplayed() != 10 || p.GetNewConnections() != 3 || p.GetConsolidationStrength() <= 0 {
		t.Fatalf("progress %v", got[3])
	}

	// dr-b holds one memory (episodic by default): it is replayed alone, nothing of dr-a.
	got, err = collect(&pb.DreamRequest{MemorySpaceId: "dr-b"})
	if err != nil || len(got) != 2 || len(got[0].GetReplay().GetMemoryIds()) != 1 || got[0].GetReplay().GetMemoryIds()[0] != "other" ||
		got[1].GetProgress().GetMemoriesReplayed() != 1 {
		t.Fatalf("dream of dr-b: %v %v", got, err)
	}
	for _, req := range []*pb.DreamRequest{{MemorySpaceId: "dr-a", ReplayCycles: 21}, {MemorySpaceId: "dr-a", CreativityFactor: 2}} {
		if _, err := collect(req); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("dream %v: %v", req, err)
		}
	}
}
