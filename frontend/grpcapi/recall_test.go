package grpcapi

import (
	"context"
	"io"
	"math"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func embeddingCue(v []float32) *pb.Cue {
	return &pb.Cue{CueType: &pb.Cue_Embedding{Embedding: &pb.EmbeddingCue{Vector: v}}}
}

func semanticCue(q string) *pb.Cue {
	return &pb.Cue{CueType: &pb.Cue_Semantic{Semantic: &pb.SemanticCue{Query: q}}}
}

func TestRecallReturnsRealEmbeddings(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	ctx := withSpace(context.Background(), "vectors")
	stored := map[string][]float32{"x0": axisVector(0, 0.2), "x1": axisVector(1, 0.2), "x2": axisVector(2, 0.2)}
	for id, v := range stored {
		h.remember(t, ctx, memoryReq("", id, "vector memory "+id, v))
	}
	resp, err := h.client.Recall(ctx, &pb.RecallRequest{Cue: embeddingCue(axisVector(1, 0.2)), MaxResults: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetMemories()) == 0 || resp.GetMemories()[0].GetId() != "x1" {
		t.Fatalf("recall order: %v", ids(resp.GetMemories()))
	}
	for _, m := range resp.GetMemories() {
		if !sameVector(m.GetEmbedding(), stored[m.GetId()]) {
			t.Fatalf("%s: embedding %v, stored %v", m.GetId(), m.GetEmbedding(), stored[m.GetId()])
		}
		if m.GetActivation() <= 0 || m.GetConfidence().GetValue() != engine.DefaultConfid || m.GetCreatedAt() == nil {
			t.Fatalf("%s: %v", m.GetId(), m)
		}
	}
	if c := resp.GetRecallConfidence(); c.GetValue() <= 0 || c.GetCategory() == pb.ConfidenceCategory_CONFIDENCE_CATEGORY_UNSPECIFIED {
		t.Fatalf("recall confidence: %v", c)
	}
	if resp.GetMetadata() != nil || resp.GetTraces() != nil {
		t.Fatalf("metadata and traces were not asked for: %v", resp)
	}
	// The recall was an access: the next one shows it.
	again, err := h.client.Recall(ctx, &pb.RecallRequest{Cue: embeddingCue(axisVector(1, 0.2)), MaxResults: 1})
	if err != nil {
		t.Fatal(err)
	}
	if again.GetMemories()[0].GetLastAccess() == nil {
		t.Fatal("last_access unset after a recall")
	}
}

func TestRecallOptions(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	ctx := withSpace(context.Background(), "opts")
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, m := range []*pb.Memory{
		{Id: "old", Content: "garden tomatoes ripe", Tags: []string{"garden"}, CreatedAt: timestamppb.New(old), Embedding: axisVector(4, 0)},
		{Id: "new", Content: "garden tomatoes picked", Tags: []string{"garden", "kitchen"}, Embedding: axisVector(4, 0.3)},
		{Id: "far", Content: "quarterly tax forms", Embedding: axisVector(6, 0)},
	} {
		h.remember(t, ctx, &pb.RememberRequest{MemoryType: &pb.RememberRequest_Memory{Memory: m}})
	}
	recall := func(req *pb.RecallRequest) *pb.RecallResponse {
		t.Helper()
		resp, err := h.client.Recall(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	t.Run("required and excluded tags", func(t *testing.T) {
		cue := &pb.Cue{CueType: &pb.Cue_Semantic{Semantic: &pb.SemanticCue{Query: "garden tomatoes", RequiredTags: []string{"garden"}, ExcludedTags: []string{"kitchen"}}}}
		if got := ids(recall(&pb.RecallRequest{Cue: cue}).GetMemories()); len(got) != 1 || got[0] != "old" {
			t.Fatalf("got %v, want [old]", got)
		}
	})
	t.Run("time window", func(t *testing.T) {
		got := ids(recall(&pb.RecallRequest{Cue: semanticCue("garden tomatoes"), FromTime: timestamppb.New(old.Add(time.Hour))}).GetMemories())
		if len(got) != 1 || got[0] != "new" {
			t.Fatalf("got %v, want [new]", got)
		}
	})
	t.Run("max results from the request, then the cue", func(t *testing.T) {
		cue := semanticCue("garden tomatoes")
		cue.MaxResults = 1
		if n := len(recall(&pb.RecallRequest{Cue: cue}).GetMemories()); n != 1 {
			t.Fatalf("cue.max_results=1 returned %d", n)
		}
		if n := len(recall(&pb.RecallRequest{Cue: cue, MaxResults: 2}).GetMemories()); n != 2 {
			t.Fatalf("max_results=2 returned %d", n)
		}
	})
	t.Run("threshold", func(t *testing.T) {
		cue := embeddingCue(axisVector(4, 0))
		cue.Threshold = &pb.Confidence{Value: 1}
		if n := len(recall(&pb.RecallRequest{Cue: cue}).GetMemories()); n != 0 {
			t.Fatalf("threshold 1 returned %d memories", n)
		}
	})
	t.Run("similarity threshold", func(t *testing.T) {
		cue := &pb.Cue{CueType: &pb.Cue_Embedding{Embedding: &pb.EmbeddingCue{Vector: axisVector(4, 0), SimilarityThreshold: 0.999}}}
		got := ids(recall(&pb.RecallRequest{Cue: cue}).GetMemories())
		if len(got) != 1 || got[0] != "old" {
			t.Fatalf("got %v, want [old]", got)
		}
	})
	t.Run("metadata and traces", func(t *testing.T) {
		resp := recall(&pb.RecallRequest{Cue: semanticCue("garden tomatoes"), IncludeMetadata: true, TraceActivation: true})
		md := resp.GetMetadata()
		if md == nil || md.GetTotalActivated() != 3 || int(md.GetAboveThreshold()) != len(resp.GetMemories()) || md.GetAvgActivation() <= 0 {
			t.Fatalf("metadata %v for %d memories", md, len(resp.GetMemories()))
		}
		if len(resp.GetTraces()) != len(resp.GetMemories()) || resp.GetTraces()[0].GetMemoryId() != resp.GetMemories()[0].GetId() ||
			resp.GetTraces()[0].GetTimestamp() == nil || len(resp.GetTraces()[0].GetActivationPath()) == 0 {
			t.Fatalf("traces %v", resp.GetTraces())
		}
		for _, m := range resp.GetMemories() {
			if m.GetMetadata()["tier"] == "" || m.GetMetadata()["score"] == "" {
				t.Fatalf("memory metadata %v", m.GetMetadata())
			}
		}
	})
}

func TestRecallIsolatesSpaces(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	bg := context.Background()
	h.remember(t, withSpace(bg, "tenant-a"), memoryReq("", "a1", "shared secret phrase", axisVector(3, 0)))
	h.remember(t, withSpace(bg, "tenant-b"), memoryReq("", "b1", "shared secret phrase", axisVector(3, 0)))
	for space, want := range map[string]string{"tenant-a": "a1", "tenant-b": "b1"} {
		for _, cue := range []*pb.Cue{semanticCue("shared secret phrase"), embeddingCue(axisVector(3, 0))} {
			cue.SpreadActivation = true
			resp, err := h.client.Recall(withSpace(bg, space), &pb.RecallRequest{Cue: cue, MaxResults: 100})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(resp.GetMemories()); len(got) != 1 || got[0] != want {
				t.Fatalf("space %s recalled %v, want [%s]", space, got, want)
			}
		}
	}
}

func TestRecallUnknownSpace(t *testing.T) {
	t.Run("auto-create on: empty answer, nothing created", func(t *testing.T) {
		h := newHarness(t, harnessConfig{})
		resp, err := h.client.Recall(withSpace(context.Background(), "nobody"), &pb.RecallRequest{Cue: semanticCue("anything"), IncludeMetadata: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetMemories()) != 0 || resp.GetRecallConfidence().GetValue() != 0 || resp.GetMetadata() == nil {
			t.Fatalf("answer: %v", resp)
		}
		if _, err := h.eng.Space("nobody"); err == nil {
			t.Fatal("a recall created the space")
		}
	})
	t.Run("auto-create off: NOT_FOUND for reads and writes", func(t *testing.T) {
		h := newHarness(t, harnessConfig{engine: func(c *engine.Config) { c.AutoCreate = false }})
		ctx := withSpace(context.Background(), "nobody")
		_, err := h.client.Recall(ctx, &pb.RecallRequest{Cue: semanticCue("anything")})
		wantCode(t, err, codes.NotFound)
		_, err = h.client.Remember(ctx, memoryReq("", "", "x", nil))
		wantCode(t, err, codes.NotFound)
	})
}

func TestRecallErrors(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	bg := context.Background()
	nanVec := axisVector(0, 0)
	nanVec[1] = float32(math.NaN())
	for _, tc := range []struct {
		name string
		ctx  context.Context
		req  *pb.RecallRequest
		want codes.Code
	}{
		{"bad space id", withSpace(bg, "no/slashes"), &pb.RecallRequest{Cue: semanticCue("x")}, codes.InvalidArgument},
		{"bad space field", bg, &pb.RecallRequest{MemorySpaceId: "x", Cue: semanticCue("x")}, codes.InvalidArgument},
		{"no cue", bg, &pb.RecallRequest{}, codes.InvalidArgument},
		{"no cue type", bg, &pb.RecallRequest{Cue: &pb.Cue{}}, codes.InvalidArgument},
		{"NaN in the cue", bg, &pb.RecallRequest{Cue: embeddingCue(nanVec)}, codes.InvalidArgument},
		{"wrong dimension", bg, &pb.RecallRequest{Cue: embeddingCue([]float32{1})}, codes.InvalidArgument},
		{"empty query", bg, &pb.RecallRequest{Cue: semanticCue("")}, codes.InvalidArgument},
		{"NaN threshold", bg, &pb.RecallRequest{Cue: &pb.Cue{CueType: semanticCue("x").CueType, Threshold: &pb.Confidence{Value: float32(math.NaN())}}}, codes.InvalidArgument},
		{"too many results", bg, &pb.RecallRequest{Cue: semanticCue("x"), MaxResults: 1001}, codes.InvalidArgument},
		{"window backwards", bg, &pb.RecallRequest{Cue: semanticCue("x"), FromTime: timestamppb.Now(), ToTime: timestamppb.New(time.Unix(0, 0))}, codes.InvalidArgument},
		{"context cue", bg, &pb.RecallRequest{Cue: &pb.Cue{CueType: &pb.Cue_Context{Context: &pb.ContextCue{Location: "home"}}}}, codes.Unimplemented},
		{"temporal cue", bg, &pb.RecallRequest{Cue: &pb.Cue{CueType: &pb.Cue_Temporal{Temporal: &pb.TemporalCue{}}}}, codes.Unimplemented},
		{"pattern cue", bg, &pb.RecallRequest{Cue: &pb.Cue{CueType: &pb.Cue_Pattern{Pattern: &pb.PatternCue{}}}}, codes.Unimplemented},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.client.Recall(tc.ctx, tc.req)
			wantCode(t, err, tc.want)
		})
	}
}

func TestStreamingRecallAnswersInOrder(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	ctx := withSpace(context.Background(), "srecall")
	for i := 0; i < 4; i++ {
		h.remember(t, ctx, memoryReq("", "v"+string(rune('0'+i)), "streaming recall target", axisVector(i, 0)))
	}
	stream, err := h.client.StreamingRecall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reqs := []*pb.RecallRequest{
		{Cue: embeddingCue(axisVector(2, 0)), MaxResults: 1},
		{Cue: embeddingCue([]float32{1})}, // wrong dimension
		{Cue: embeddingCue(axisVector(0, 0)), MaxResults: 1},
		{MemorySpaceId: "other", Cue: embeddingCue(axisVector(3, 0)), MaxResults: 1}, // the metadata wins
	}
	for _, r := range reqs {
		if err := stream.Send(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"v2", "", "v0", "v3"} {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if want == "" {
			if codes.Code(resp.GetError().GetCode()) != codes.InvalidArgument {
				t.Fatalf("response %d: %v, want an INVALID_ARGUMENT item error", i, resp)
			}
			continue
		}
		if resp.GetError() != nil || len(resp.GetMemories()) != 1 || resp.GetMemories()[0].GetId() != want {
			t.Fatalf("response %d: %v, want %s", i, resp, want)
		}
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestForget(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	ctx := withSpace(context.Background(), "forgetful")
	h.remember(t, ctx, memoryReq("", "gone", "to be forgotten", nil))
	resp, err := h.client.Forget(ctx, &pb.ForgetRequest{Target: &pb.ForgetRequest_MemoryId{MemoryId: "gone"}, Mode: pb.ForgetMode_FORGET_MODE_DELETE})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetMemoriesAffected() != 1 || resp.GetReversible() || resp.GetForgetConfidence().GetValue() != 1 {
		t.Fatalf("answer: %v", resp)
	}
	sp, _ := h.eng.Space("forgetful")
	if _, err := sp.Get("gone"); err == nil {
		t.Fatal("memory still there")
	}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		req  *pb.ForgetRequest
		want codes.Code
	}{
		{"forgotten already", ctx, &pb.ForgetRequest{Target: &pb.ForgetRequest_MemoryId{MemoryId: "gone"}}, codes.NotFound},
		{"unknown id", ctx, &pb.ForgetRequest{Target: &pb.ForgetRequest_MemoryId{MemoryId: "never"}}, codes.NotFound},
		{"unknown space", withSpace(context.Background(), "ghost-town"), &pb.ForgetRequest{Target: &pb.ForgetRequest_MemoryId{MemoryId: "x"}}, codes.NotFound},
		{"bad space", withSpace(context.Background(), "Ghost"), &pb.ForgetRequest{Target: &pb.ForgetRequest_MemoryId{MemoryId: "x"}}, codes.InvalidArgument},
		{"no target", ctx, &pb.ForgetRequest{}, codes.InvalidArgument},
		{"bad id", ctx, &pb.ForgetRequest{Target: &pb.ForgetRequest_MemoryId{MemoryId: "a b"}}, codes.InvalidArgument},
		{"suppress", ctx, &pb.ForgetRequest{Target: &pb.ForgetRequest_MemoryId{MemoryId: "x"}, Mode: pb.ForgetMode_FORGET_MODE_SUPPRESS}, codes.Unimplemented},
		{"overwrite", ctx, &pb.ForgetRequest{Target: &pb.ForgetRequest_MemoryId{MemoryId: "x"}, Mode: pb.ForgetMode_FORGET_MODE_OVERWRITE}, codes.Unimplemented},
		{"by pattern", ctx, &pb.ForgetRequest{Target: &pb.ForgetRequest_Pattern{Pattern: semanticCue("x")}}, codes.Unimplemented},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.client.Forget(tc.ctx, tc.req)
			wantCode(t, err, tc.want)
		})
	}
	if _, err := h.eng.Space("ghost-town"); err == nil {
		t.Fatal("a forget created a space")
	}
}
