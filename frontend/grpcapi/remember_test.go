package grpcapi

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestRememberStoresWhatWasSent(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	ctx := context.Background()
	observed := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	resp := h.remember(t, ctx, &pb.RememberRequest{
		MemorySpaceId: "notes",
		MemoryType: &pb.RememberRequest_Memory{Memory: &pb.Memory{
			Id:         "m1",
			Content:    "the deploy broke the login page",
			Embedding:  axisVector(1, 0.1),
			Confidence: &pb.Confidence{Value: 0.9},
			CreatedAt:  timestamppb.New(observed),
			Tags:       []string{"ops", "incident"},
			MemoryType: pb.MemoryType_MEMORY_TYPE_SEMANTIC,
		}},
	})
	if resp.GetMemoryId() != "m1" || resp.GetInitialState() != pb.ConsolidationState_CONSOLIDATION_STATE_RECENT {
		t.Fatalf("answer: %v", resp)
	}
	if c := resp.GetStorageConfidence(); c.GetValue() != 0.9 || c.GetCategory() != pb.ConfidenceCategory_CONFIDENCE_CATEGORY_HIGH {
		t.Fatalf("storage confidence: %v", c)
	}
	sp, err := h.eng.Space("notes")
	if err != nil {
		t.Fatal(err)
	}
	m, err := sp.Get("m1")
	if err != nil {
		t.Fatal(err)
	}
	if m.Content != "the deploy broke the login page" || m.Confidence != 0.9 || !m.ObservedAt.Equal(observed) ||
		m.Type != engine.Semantic || len(m.Tags) != 2 || !sameVector(m.Embedding, axisVector(1, 0.1)) {
		t.Fatalf("stored memory: %+v", m)
	}

	// Unset confidence means the default; no embedding means the space's embedder fills it.
	resp = h.remember(t, ctx, memoryReq("notes", "", "content only", nil))
	m, err = sp.Get(resp.GetMemoryId())
	if err != nil {
		t.Fatal(err)
	}
	if m.Confidence != engine.DefaultConfid || len(m.Embedding) != testDim || m.Type != engine.Episodic {
		t.Fatalf("defaults: %+v", m)
	}
}

func TestRememberEpisodeAndStore(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	ctx := context.Background()
	when := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	ep := &pb.Episode{
		Id:                 "ep1",
		When:               timestamppb.New(when),
		What:               "met the team at the lake",
		EncodingConfidence: &pb.Confidence{Value: 0.6},
		WhereLocation:      "lake",
		Who:                []string{"ana", "bo"},
		Why:                "offsite",
		How:                "by train",
		EmotionalValence:   0.5,
		Importance:         0.8,
		MemorySpaceId:      "journal",
		Tags:               []string{"team"},
	}
	if _, err := h.client.Store(ctx, ep); err != nil {
		t.Fatalf("store: %v", err)
	}
	sp, err := h.eng.Space("journal")
	if err != nil {
		t.Fatalf("Episode.memory_space_id did not pick the space: %v", err)
	}
	m, err := sp.Get("ep1")
	if err != nil {
		t.Fatal(err)
	}
	want := engine.Episode{Where: "lake", Why: "offsite", How: "by train", EmotionalValence: 0.5, Importance: 0.8}
	if m.Episode == nil || m.Episode.Where != want.Where || m.Episode.Why != want.Why || m.Episode.How != want.How ||
		m.Episode.EmotionalValence != want.EmotionalValence || m.Episode.Importance != want.Importance ||
		len(m.Episode.Who) != 2 || m.Content != ep.What || !m.ObservedAt.Equal(when) || m.Confidence != 0.6 {
		t.Fatalf("stored episode: %+v %+v", m, m.Episode)
	}

	// The metadata beats Episode.memory_space_id.
	ep.Id = "ep2"
	if _, err := h.client.Store(withSpace(ctx, "diary"), ep); err != nil {
		t.Fatal(err)
	}
	if sp, err := h.eng.Space("diary"); err != nil {
		t.Fatalf("metadata did not pick the space: %v", err)
	} else if _, err := sp.Get("ep2"); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Get("ep2"); err == nil {
		t.Fatal("ep2 was stored in the body's space too")
	}

	// Remember with an episode, read back through recall with its metadata.
	if _, err := h.client.Remember(ctx, &pb.RememberRequest{
		MemorySpaceId: "journal",
		MemoryType: &pb.RememberRequest_Episode{Episode: &pb.Episode{
			Id: "ep3", When: timestamppb.Now(), What: "sailing lesson", Who: []string{"cy"}, WhereLocation: "harbour",
		}},
	}); err != nil {
		t.Fatal(err)
	}
	rec, err := h.client.Recall(ctx, &pb.RecallRequest{
		MemorySpaceId:   "journal",
		Cue:             &pb.Cue{CueType: &pb.Cue_Semantic{Semantic: &pb.SemanticCue{Query: "sailing lesson"}}},
		IncludeMetadata: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.GetMemories()) == 0 || rec.GetMemories()[0].GetId() != "ep3" {
		t.Fatalf("recall of the episode: %v", ids(rec.GetMemories()))
	}
	md := rec.GetMemories()[0].GetMetadata()
	if md["where_location"] != "harbour" || md["who"] != `["cy"]` || md["recall_category"] != "vivid" || md["retrieval_path"] != "direct" {
		t.Fatalf("episode metadata: %v", md)
	}
}

func TestRememberAutoLinkListsLinks(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	ctx := withSpace(context.Background(), "links")
	h.remember(t, ctx, memoryReq("", "first", "alpha", axisVector(2, 0)))
	req := memoryReq("", "second", "beta", axisVector(2, 0.01))
	req.AutoLink, req.LinkThreshold = true, 0.5
	resp := h.remember(t, ctx, req)
	if len(resp.GetLinkedMemories()) != 1 || resp.GetLinkedMemories()[0] != "first" {
		t.Fatalf("linked_memories = %v, want [first]", resp.GetLinkedMemories())
	}
}

func TestRememberRejectsBadInput(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	bg := context.Background()
	nan := float32(math.NaN())
	withNaN := axisVector(0, 0)
	withNaN[3] = nan
	underflow, overflow := make([]float32, len(withNaN)), make([]float32, len(withNaN))
	for i := range underflow {
		underflow[i] = 1e-45
	}
	overflow[0] = 1e20
	mem := func(m *pb.Memory) *pb.RememberRequest {
		return &pb.RememberRequest{MemoryType: &pb.RememberRequest_Memory{Memory: m}}
	}
	episode := func(e *pb.Episode) *pb.RememberRequest {
		return &pb.RememberRequest{MemoryType: &pb.RememberRequest_Episode{Episode: e}}
	}
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		req    *pb.RememberRequest
		reason string
		says   string // part of the message
	}{
		{"invalid space in metadata", withSpace(bg, "Bad.Space"), memoryReq("", "", "x", nil), frontend.CodeBadRequest, "x-memory-space metadata"},
		{"invalid space in field", bg, memoryReq("../etc", "", "x", nil), frontend.CodeBadRequest, "memory_space_id field"},
		{"invalid metadata never falls through to a valid field", withSpace(bg, "UPPER"), memoryReq("fine", "", "x", nil), frontend.CodeBadRequest, "x-memory-space"},
		{"content over the limit", bg, memoryReq("", "", strings.Repeat("x", engine.MaxContentBytes+1), nil), frontend.CodeInvalidInput, "memory.content"},
		{"NaN in the embedding", bg, memoryReq("", "", "x", withNaN), frontend.CodeInvalidInput, ""},
		{"wrong dimension", bg, memoryReq("", "", "x", []float32{1, 2}), frontend.CodeInvalidInput, ""},
		{"zero embedding", bg, memoryReq("", "", "x", make([]float32, len(withNaN))), frontend.CodeInvalidInput, "length 0"},
		{"underflowing embedding", bg, memoryReq("", "", "x", underflow), frontend.CodeInvalidInput, "length 0"},
		{"overflowing embedding", bg, memoryReq("", "", "x", overflow), frontend.CodeInvalidInput, "overflows"},
		{"zero episode embedding", bg, episode(&pb.Episode{What: "x", When: timestamppb.Now(), Embedding: make([]float32, len(withNaN))}), frontend.CodeInvalidInput, "length 0"},
		{"NaN confidence", bg, mem(&pb.Memory{Content: "x", Confidence: &pb.Confidence{Value: nan}}), frontend.CodeInvalidInput, ""},
		{"confidence above 1", bg, mem(&pb.Memory{Content: "x", Confidence: &pb.Confidence{Value: 1.5}}), frontend.CodeInvalidInput, ""},
		{"empty content", bg, memoryReq("", "", "  ", nil), frontend.CodeInvalidInput, ""},
		{"invalid id", bg, memoryReq("", "has space", "x", nil), frontend.CodeInvalidInput, ""},
		{"working memory", bg, mem(&pb.Memory{Content: "x", MemoryType: pb.MemoryType_MEMORY_TYPE_WORKING}), frontend.CodeInvalidInput, ""},
		{"metadata would be lost", bg, mem(&pb.Memory{Content: "x", Metadata: map[string]string{"k": "v"}}), frontend.CodeInvalidInput, ""},
		{"neither memory nor episode", bg, &pb.RememberRequest{}, frontend.CodeInvalidInput, ""},
		{"episode without what", bg, episode(&pb.Episode{When: timestamppb.Now()}), frontend.CodeInvalidInput, "episode.what"},
		{"episode with an invalid when", bg, episode(&pb.Episode{What: "x", When: &timestamppb.Timestamp{Nanos: -1}}), frontend.CodeInvalidInput, "episode.when"},
		{"valence out of range", bg, episode(&pb.Episode{What: "x", When: timestamppb.Now(), EmotionalValence: 2}), frontend.CodeInvalidInput, ""},
		{"link threshold NaN", bg, &pb.RememberRequest{MemoryType: &pb.RememberRequest_Memory{Memory: &pb.Memory{Content: "x"}}, LinkThreshold: nan}, frontend.CodeInvalidInput, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.client.Remember(tc.ctx, tc.req)
			st := wantCode(t, err, codes.InvalidArgument)
			if reasonOf(st) != tc.reason || !strings.Contains(st.Message(), tc.says) {
				t.Fatalf("reason %q, message %q; want %q, %q", reasonOf(st), st.Message(), tc.reason, tc.says)
			}
		})
	}
	// Nothing above stored a memory or created a space other than "default".
	for _, sp := range h.eng.Spaces() {
		if sp.ID() != engine.DefaultSpace || sp.Stats().Memories != 0 {
			t.Fatalf("a rejected remember left %q with %d memories", sp.ID(), sp.Stats().Memories)
		}
	}
}

func TestSpacePrecedence(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	for _, tc := range []struct {
		name, header, field, want string
	}{
		{"metadata beats field", "beta", "alpha", "beta"},
		{"field alone", "", "alpha", "alpha"},
		{"neither", "", "", engine.DefaultSpace},
		{"metadata alone", "gamma", "", "gamma"},
		{"metadata is trimmed", "  delta ", "", "delta"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.header != "" {
				ctx = withSpace(ctx, tc.header)
			}
			id := "p-" + tc.want
			h.remember(t, ctx, memoryReq(tc.field, id, "precedence", nil))
			sp, err := h.eng.Space(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sp.Get(id); err != nil {
				t.Fatalf("memory not in %q: %v", tc.want, err)
			}
		})
	}
	sp, err := h.eng.Space("alpha")
	if err != nil {
		t.Fatal(err)
	}
	if n := sp.Stats().Memories; n != 1 {
		t.Fatalf("alpha holds %d memories, want only the field-only one", n)
	}
}

func TestRememberRateLimited(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	if _, _, err := h.eng.CreateSpace("slow", engine.SpaceSettings{RateLimit: 2}); err != nil {
		t.Fatal(err)
	}
	ctx := withSpace(context.Background(), "slow")
	h.remember(t, ctx, memoryReq("", "", "one", nil))
	h.remember(t, ctx, memoryReq("", "", "two", nil))
	var trailer metadata.MD
	_, err := h.client.Remember(ctx, memoryReq("", "", "three", nil), grpc.Trailer(&trailer))
	st := wantCode(t, err, codes.ResourceExhausted)
	if reasonOf(st) != frontend.CodeRateLimited || len(trailer.Get("retry-after")) != 1 {
		t.Fatalf("reason %q, trailer %v", reasonOf(st), trailer)
	}
}

func TestStreamingRememberTenThousand(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	ctx := withSpace(context.Background(), "bulk")
	stream, err := h.client.StreamingRemember(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	sendErr := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			if err := stream.Send(memoryReq("", fmt.Sprintf("m%05d", i), fmt.Sprintf("bulk memory number %d", i), nil)); err != nil {
				sendErr <- err
				return
			}
		}
		sendErr <- stream.CloseSend()
	}()
	for i := 0; i < n; i++ {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("ack %d: %v", i, err)
		}
		if resp.GetError() != nil || resp.GetMemoryId() != fmt.Sprintf("m%05d", i) {
			t.Fatalf("ack %d: %v", i, resp)
		}
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("after the last ack: %v, want EOF", err)
	}
	if err := <-sendErr; err != nil {
		t.Fatal(err)
	}
	sp, err := h.eng.Space("bulk")
	if err != nil {
		t.Fatal(err)
	}
	if got := sp.Stats().Memories; got != n {
		t.Fatalf("space holds %d memories, want %d", got, n)
	}
}

func TestStreamingRememberReportsItemErrors(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	stream, err := h.client.StreamingRemember(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	reqs := []*pb.RememberRequest{
		memoryReq("one-s", "a", "fine", nil),
		memoryReq("one-s", "b", "", nil),            // empty content
		memoryReq("Not Valid", "c", "fine", nil),    // bad space id
		memoryReq("two-s", "d", "other space", nil), // another space: another batch
		memoryReq("one-s", "e", "wrong dim", []float32{1}),
		memoryReq("one-s", "f", "fine again", nil),
	}
	for _, r := range reqs {
		if err := stream.Send(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	want := []codes.Code{codes.OK, codes.InvalidArgument, codes.InvalidArgument, codes.OK, codes.InvalidArgument, codes.OK}
	for i, w := range want {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if got := codes.Code(resp.GetError().GetCode()); got != w {
			t.Fatalf("response %d: code %v, want %v (%v)", i, got, w, resp)
		}
		if w == codes.OK && resp.GetMemoryId() != reqs[i].GetMemory().GetId() {
			t.Fatalf("response %d answers %q", i, resp.GetMemoryId())
		}
		if w != codes.OK && (resp.GetError().GetErrorCode() == "" || resp.GetError().GetMessage() == "" || resp.GetMemoryId() != "") {
			t.Fatalf("response %d: %v", i, resp)
		}
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	for space, id := range map[string]string{"one-s": "f", "two-s": "d"} {
		sp, err := h.eng.Space(space)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sp.Get(id); err != nil {
			t.Fatal(err)
		}
	}
}
