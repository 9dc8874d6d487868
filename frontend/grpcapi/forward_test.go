package grpcapi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/frontendtest"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

func clusterNode(t *testing.T, id string, r frontendtest.Router) *harness {
	return newHarness(t, harnessConfig{options: func(o *frontend.Options) { o.Router, o.NodeID = r, id }})
}

func TestForwardUnaryToOwner(t *testing.T) {
	b := clusterNode(t, "b", frontendtest.Router{Owners: map[string]frontend.Owner{
		"elsewhere": {NodeID: "a", GRPC: "127.0.0.1:1"},
		"pingpong":  {NodeID: "a", GRPC: "127.0.0.1:1"},
	}})
	ownerB := frontend.Owner{NodeID: "b", GRPC: b.srv.Addr()}
	a := clusterNode(t, "a", frontendtest.Router{
		Owners: map[string]frontend.Owner{"remote": ownerB, "pingpong": ownerB},
		Errs:   map[string]error{"moving": errors.New("partition 1 has no owner")},
	})
	ctx := metadata.AppendToOutgoingContext(withSpace(context.Background(), "remote"), frontend.IdempotencyMetadata, "k-1")

	// Sent to A, stored by B with the id the key fixes, answered by B (with its header).
	var header metadata.MD
	resp, err := a.client.Remember(ctx, memoryReq("", "", "forwarded over gRPC", axisVector(1, 0)), grpc.Header(&header))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := frontend.IdempotentID("remote", "k-1")
	if resp.GetMemoryId() != want {
		t.Fatalf("memory id %q, want %q", resp.GetMemoryId(), want)
	}
	if sp, err := b.eng.Space("remote"); err != nil || sp.Stats().Memories != 1 {
		t.Fatalf("owner B: space remote %v, %v", sp, err)
	}
	if _, err := a.eng.Space("remote"); err == nil {
		t.Fatal("node A created the forwarded space")
	}
	// The retry through A is a replay, told in the owner's header metadata.
	header = nil
	if _, err := a.client.Remember(ctx, memoryReq("", "", "forwarded over gRPC", axisVector(1, 0)), grpc.Header(&header)); err != nil {
		t.Fatal(err)
	}
	if got := header.Get(replayedMetadata); len(got) != 1 || got[0] != "true" {
		t.Fatalf("retry header %v, want %s: true", header, replayedMetadata)
	}
	if sp, _ := b.eng.Space("remote"); sp.Stats().Memories != 1 {
		t.Fatalf("retry stored again: %d memories", sp.Stats().Memories)
	}
	rec, err := a.client.Recall(withSpace(context.Background(), "remote"), &pb.RecallRequest{Cue: embeddingCue(axisVector(1, 0)), MaxResults: 3})
	if err != nil || len(rec.GetMemories()) != 1 {
		t.Fatalf("recall through A: %v, %v", rec, err)
	}
	// Isolation: another space on the owner does not see it.
	if rec, err := b.client.Recall(withSpace(context.Background(), "other"), &pb.RecallRequest{Cue: embeddingCue(axisVector(1, 0)), MaxResults: 3}); err != nil || len(rec.GetMemories()) != 0 {
		t.Fatalf("recall of another space: %v, %v", rec, err)
	}
	if n := a.srv.opts.Forwards.GRPC.OK.Load(); n != 3 {
		t.Fatalf("forwards counted %d, want 3", n)
	}

	cases := []struct {
		name  string
		h     *harness
		ctx   context.Context
		words string
	}{
		// A forwards to B, which says A serves it: B refuses the second hop, naming A.
		{"second hop", a, withSpace(context.Background(), "pingpong"), `forwarded here by node "a"`},
		{"marker sent by a client", b, metadata.AppendToOutgoingContext(withSpace(context.Background(), "elsewhere"),
			frontend.ForwardedByMetadata, "a"), "forwarded here"},
		{"no owner", a, withSpace(context.Background(), "moving"), "partition 1 has no owner"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.h.client.Remember(tc.ctx, memoryReq("", "", "x", axisVector(2, 0)))
			st := wantCode(t, err, codes.Unavailable)
			if reasonOf(st) != frontend.CodeNotOwner || !strings.Contains(st.Message(), tc.words) {
				t.Fatalf("status %v (reason %s), want NOT_OWNER mentioning %q", st, reasonOf(st), tc.words)
			}
		})
	}
	if _, err := b.eng.Space("pingpong"); err == nil {
		t.Fatal("the refused second hop created a space")
	}

	// The event stream is relayed from the owner: a write on B shows on A's stream.
	sctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := a.client.Stream(sctx, &pb.StreamRequest{MemorySpaceId: "remote", EventTypes: []string{"storage"}})
	if err != nil {
		t.Fatal(err)
	}
	if hdr, err := stream.Header(); err != nil || len(hdr.Get(spaceMetadata)) != 1 || hdr.Get(spaceMetadata)[0] != "remote" {
		t.Fatalf("relayed header %v, %v", hdr, err)
	}
	stored := b.remember(t, withSpace(context.Background(), "remote"), memoryReq("", "", "written on the owner", axisVector(3, 0)))
	ev, err := stream.Recv()
	if err != nil || ev.GetMemoryId() != stored.GetMemoryId() || ev.GetMemorySpaceId() != "remote" {
		t.Fatalf("relayed event %v, %v; want the storage of %s", ev, err, stored.GetMemoryId())
	}
	cancel()

	// A bidirectional stream names a space per item and is not relayed: the item is told
	// the owner.
	bidi, err := a.client.StreamingRemember(withSpace(context.Background(), "remote"))
	if err != nil {
		t.Fatal(err)
	}
	if err := bidi.Send(memoryReq("", "", "x", axisVector(4, 0))); err != nil {
		t.Fatal(err)
	}
	bidi.CloseSend()
	resp, err = bidi.Recv()
	if err != nil || resp.GetError().GetErrorCode() != frontend.CodeNotOwner || !strings.Contains(resp.GetError().GetMessage(), ownerB.GRPC) {
		t.Fatalf("bidi item %v, %v; want NOT_OWNER naming %s", resp, err, ownerB.GRPC)
	}
}
