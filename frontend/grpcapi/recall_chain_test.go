package grpcapi

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestRecallChainOverGRPC: Recall answers from the same engine result as HTTP. With
// spread_activation, c (cos 0.125 to the cue) is reached through b (cos 0.75, edge 0.75)
// at threshold 0.2 and its trace and the metadata name the path b -> c; without it, the
// recall is by similarity and c is not returned. Another space sees nothing.
func TestRecallChainOverGRPC(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	ctx := withSpace(context.Background(), "chain")
	th := math.Acos(0.75)
	v := map[string][]float32{
		"a": {1, 0, 0, 0, 0, 0, 0, 0},
		"b": {float32(math.Cos(th)), float32(math.Sin(th)), 0, 0, 0, 0, 0, 0},
		"c": {float32(math.Cos(2 * th)), float32(math.Sin(2 * th)), 0, 0, 0, 0, 0, 0},
	}
	at := time.Now().Add(-4 * time.Hour)
	for _, id := range []string{"c", "b", "a"} {
		at = at.Add(time.Hour) // an hour apart: no temporal edges
		req := memoryReq("", id, "chain "+id, v[id])
		req.GetMemory().CreatedAt = timestamppb.New(at)
		req.AutoLink, req.LinkThreshold = true, 0.7
		h.remember(t, ctx, req)
	}
	recall := func(ctx context.Context, spread bool) *pb.RecallResponse {
		t.Helper()
		cue := embeddingCue(v["a"])
		cue.SpreadActivation = spread
		cue.Threshold = &pb.Confidence{Value: 0.2}
		resp, err := h.client.Recall(ctx, &pb.RecallRequest{Cue: cue, TraceActivation: true, IncludeMetadata: true})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	tests := []struct {
		spread bool
		want   string
	}{
		{true, "[a b c]"},
		{false, "[a b]"},
	}
	for _, tt := range tests {
		resp := recall(ctx, tt.spread)
		if got := fmt.Sprint(ids(resp.GetMemories())); got != tt.want {
			t.Fatalf("spread_activation=%v: memories %s, want %s", tt.spread, got, tt.want)
		}
		for _, tr := range resp.GetTraces() {
			want := "[" + tr.GetMemoryId() + "]"
			if tr.GetMemoryId() == "c" {
				want = "[b c]"
			}
			if got := fmt.Sprint(tr.GetActivationPath()); got != want {
				t.Fatalf("trace of %s: %s, want %s", tr.GetMemoryId(), got, want)
			}
		}
		wantPath := "[]"
		if tt.spread {
			wantPath = "[b c]"
		}
		if got := fmt.Sprint(resp.GetMetadata().GetActivationPath()); got != wantPath {
			t.Fatalf("spread_activation=%v: metadata activation_path %s, want %s", tt.spread, got, wantPath)
		}
	}
	if resp := recall(withSpace(context.Background(), "other-space"), true); len(resp.GetMemories()) != 0 {
		t.Fatalf("other space recalls %v", ids(resp.GetMemories()))
	}
}
