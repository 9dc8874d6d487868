package grpcapi

import (
	"context"
	"errors"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/frontendtest"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"
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
}

// clusterPair is node A, which serves every space but "remote", and node B, which serves
// "remote" (and every other space A names); "moving" has no owner at A, and "gone" an
// owner that does not answer.
func clusterPair(t *testing.T) (a, b *harness) {
	b = clusterNode(t, "b", frontendtest.Router{})
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead.Close()
	a = clusterNode(t, "a", frontendtest.Router{
		Owners: map[string]frontend.Owner{"remote": {NodeID: "b", GRPC: b.srv.Addr()}, "gone": {NodeID: "c", GRPC: dead.Addr().String()}},
		Errs:   map[string]error{"moving": errors.New("partition 1 has no owner")},
	})
	return a, b
}

// TestForwardStreamItemsToOwner: the items of the bidirectional streams whose space
// another node serves are answered by that node, in stream order among the local ones;
// an item whose space has no owner answers NOT_OWNER in the stream.
func TestForwardStreamItemsToOwner(t *testing.T) {
	a, b := clusterPair(t)
	ctx := context.Background()

	bidi, err := a.client.StreamingRemember(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sent := []*pb.RememberRequest{
		memoryReq("remote", "r1", "first to the owner", axisVector(1, 0)),
		memoryReq("here", "h1", "kept at A", axisVector(1, 0)),
		memoryReq("remote", "r2", "second to the owner", axisVector(2, 0)),
		memoryReq("moving", "m1", "nowhere to go", axisVector(3, 0)),
		memoryReq("remote", "r3", "", axisVector(4, 0)), // refused by the owner
		memoryReq("gone", "g1", "to an owner that does not answer", axisVector(4, 0)),
		memoryReq("here", "h2", "kept at A too", axisVector(2, 0)),
	}
	for _, r := range sent {
		if err := bidi.Send(r); err != nil {
			t.Fatal(err)
		}
	}
	bidi.CloseSend()
	wantItems := []struct{ id, code string }{
		{"r1", ""}, {"h1", ""}, {"r2", ""}, {"", frontend.CodeNotOwner}, {"", frontend.CodeInvalidInput}, {"", frontend.CodeNotOwner}, {"h2", ""},
	}
	for i, want := range wantItems {
		resp, err := bidi.Recv()
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		if resp.GetMemoryId() != want.id || resp.GetError().GetErrorCode() != want.code {
			t.Fatalf("item %d: %v, want id %q error %q", i, resp, want.id, want.code)
		}
		if want.code == frontend.CodeNotOwner && (resp.GetError().GetRetryAfterSeconds() < 1 || resp.GetError().GetCode() != int32(codes.Unavailable)) {
			t.Fatalf("item %d: %v, want UNAVAILABLE with a retry delay", i, resp)
		}
	}
	if _, err := bidi.Recv(); err != io.EOF {
		t.Fatalf("end of stream: %v", err)
	}
	for _, c := range []struct {
		h      *harness
		space  string
		wantN  int
		absent bool
	}{
		{b, "remote", 2, false}, {a, "here", 2, false}, {a, "remote", 0, true}, {b, "here", 0, true},
		{a, "moving", 0, true}, {b, "moving", 0, true}, {a, "gone", 0, true},
	} {
		sp, err := c.h.eng.Space(c.space)
		if c.absent {
			if err == nil {
				t.Errorf("space %s was created on the node that does not serve it", c.space)
			}
			continue
		}
		if err != nil || sp.Stats().Memories != c.wantN {
			t.Errorf("space %s: %v, %v; want %d memories", c.space, sp, err, c.wantN)
		}
	}

	recalls, err := a.client.StreamingRecall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cue := embeddingCue(axisVector(1, 0))
	for _, space := range []string{"remote", "here", "moving", "other"} {
		if err := recalls.Send(&pb.RecallRequest{MemorySpaceId: space, Cue: cue, MaxResults: 10}); err != nil {
			t.Fatal(err)
		}
	}
	recalls.CloseSend()
	wantRecalls := []struct {
		ids  []string
		code string
	}{{[]string{"r1"}, ""}, {[]string{"h1"}, ""}, {nil, frontend.CodeNotOwner}, {nil, ""}}
	for i, want := range wantRecalls {
		resp, err := recalls.Recv()
		if err != nil {
			t.Fatalf("recall %d: %v", i, err)
		}
		got := ids(resp.GetMemories())
		slices.Sort(got)
		if !slices.Equal(got, want.ids) || resp.GetError().GetErrorCode() != want.code {
			t.Fatalf("recall %d: ids %v error %v, want %v %q", i, got, resp.GetError(), want.ids, want.code)
		}
	}
	if _, err := recalls.Recv(); err != io.EOF {
		t.Fatalf("end of recall stream: %v", err)
	}
	// Three remembers and one recall went to B; one remember found no one.
	if n, failed := a.srv.opts.Forwards.GRPC.OK.Load(), a.srv.opts.Forwards.GRPC.Failed.Load(); n != 4 || failed != 1 {
		t.Fatalf("forwards counted %d answered, %d failed; want 4 and 1", n, failed)
	}

	// Dream (a server stream) is relayed like Stream: B replays the episode it holds.
	b.remember(t, withSpace(ctx, "remote"), &pb.RememberRequest{MemoryType: &pb.RememberRequest_Episode{Episode: &pb.Episode{
		What: "an episode on the owner", When: timestamppb.Now(), Embedding: axisVector(5, 0)}}})
	dream, err := a.client.Dream(withSpace(ctx, "remote"), &pb.DreamRequest{ReplayCycles: 1})
	if err != nil {
		t.Fatal(err)
	}
	var replayed int32
	for {
		resp, err := dream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		replayed += resp.GetProgress().GetMemoriesReplayed()
	}
	if replayed < 1 {
		t.Fatalf("dream through A replayed %d memories, want the owner's episode", replayed)
	}
}

// TestListSpacesOfTheCluster: ListSpaces at any node lists every space of the cluster the
// key may see, those served elsewhere as their owner's ListSpaces answers them.
func TestListSpacesOfTheCluster(t *testing.T) {
	keys := frontendtest.Keys{
		"k-all":    {Name: "all", Spaces: []string{"*"}},
		"k-remote": {Name: "remote", Spaces: []string{"remote"}},
	}
	b := newHarness(t, harnessConfig{options: func(o *frontend.Options) {
		o.NodeID, o.Auth, o.Router = "b", keys, frontendtest.Router{}
	}})
	dir := frontendtest.Directory{"here", "remote"}
	a := newHarness(t, harnessConfig{options: func(o *frontend.Options) {
		o.NodeID, o.Auth, o.Directory = "a", keys, dir
		o.Router = frontendtest.Router{Owners: map[string]frontend.Owner{"remote": {NodeID: "b", GRPC: b.srv.Addr()}}}
	}})
	key := func(k string) context.Context {
		return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+k)
	}
	a.remember(t, withSpace(key("k-all"), "here"), memoryReq("", "", "at A", axisVector(1, 0)))
	for range 2 {
		a.remember(t, withSpace(key("k-all"), "remote"), memoryReq("", "", "at B through A", axisVector(1, 0)))
	}
	b.remember(t, withSpace(key("k-all"), "unlisted"), memoryReq("", "", "only at B", axisVector(1, 0)))

	for _, tc := range []struct {
		key  string
		want map[string]int64 // memories by space
	}{
		// Each node serves its own default space here: A lists its own.
		{"k-all", map[string]int64{"default": 0, "here": 1, "remote": 2}},
		{"k-remote", map[string]int64{"remote": 2}},
	} {
		resp, err := a.client.ListSpaces(key(tc.key), &pb.ListSpacesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, sp := range resp.GetSpaces() {
			got = append(got, sp.GetId())
			root := a.eng.Config().DataRoot
			if sp.GetId() == "remote" {
				root = b.eng.Config().DataRoot
			}
			if sp.GetMemories() != tc.want[sp.GetId()] || !strings.HasPrefix(sp.GetPersistenceRoot(), root) || sp.GetSettings() == nil {
				t.Errorf("key %s: space %v, want %d memories under %s", tc.key, sp, tc.want[sp.GetId()], root)
			}
		}
		if want := slices.Sorted(maps.Keys(tc.want)); !slices.Equal(got, want) {
			t.Fatalf("key %s: listed %v, want %v", tc.key, got, want)
		}
	}

	// A listed space without an owner fails the listing.
	c := newHarness(t, harnessConfig{options: func(o *frontend.Options) {
		o.NodeID, o.Directory = "c", frontendtest.Directory{"moving"}
		o.Router = frontendtest.Router{Errs: map[string]error{"moving": errors.New("partition 0 has no owner")}}
	}})
	_, err := c.client.ListSpaces(context.Background(), &pb.ListSpacesRequest{})
	if st := wantCode(t, err, codes.Unavailable); reasonOf(st) != frontend.CodeNotOwner {
		t.Fatalf("status %v, want NOT_OWNER", st)
	}
}
