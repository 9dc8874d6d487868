package grpcapi

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/frontendtest"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
)

// allocatedDuring returns the heap bytes allocated while f runs (TotalAlloc).
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileMessagesAreBoundedInMemory sends messages of max_body_bytes built to be
// expensive to decode — millions of empty tags, of metadata entries, of who names — and
// holds each call to the documented bound (docs/grpc.md): 3 × max_body_bytes allocated —
// the HTTP bound plus gRPC's own receive buffers — besides the client's marshalling. Before the codec's count, the tags alone
// allocated 229 MiB for an 8 MB message.
func TestHostileMessagesAreBoundedInMemory(t *testing.T) {
	const maxBody = 4 << 20
	h := newHarness(t, harnessConfig{options: func(o *frontend.Options) { o.MaxBodyBytes = maxBody }})
	meta := map[string]string{}
	for i := range 150_000 {
		meta[strings.Repeat("k", 3)+string(rune('a'+i%26))+strings.Repeat("x", i%7)+string(rune(i))] = ""
	}
	msgs := map[string]*pb.RememberRequest{
		"empty tags": {MemoryType: &pb.RememberRequest_Memory{Memory: &pb.Memory{Content: "x", Tags: make([]string, maxBody/3-100)}}},
		"who names":  {MemoryType: &pb.RememberRequest_Episode{Episode: &pb.Episode{What: "x", Who: make([]string, maxBody/3-100)}}},
		"metadata":   {MemoryType: &pb.RememberRequest_Memory{Memory: &pb.Memory{Content: "x", Metadata: meta}}},
	}
	for name, req := range msgs {
		t.Run(name, func(t *testing.T) {
			size := proto.Size(req)
			if size > maxBody {
				t.Fatalf("the message is %d bytes, over the limit", size)
			}
			var err error
			alloc := allocatedDuring(func() { _, err = h.client.Remember(context.Background(), req) })
			t.Logf("%d-byte message: %v; %d bytes allocated", size, err, alloc)
			if err == nil || !strings.Contains(err.Error(), "more than") {
				t.Fatalf("answer %v, want a refusal for too many fields", err)
			}
			// The client's share: marshalling the message (a map's entries are sorted).
			client := allocatedDuring(func() {
				if _, err := proto.Marshal(req); err != nil {
					t.Fatal(err)
				}
			})
			// The count is the process's: the connection's and the harness engine's goroutines
			// allocate meanwhile too, and gRPC's buffer pools, emptied by the collection before
			// the count, refill at different times. Under -race, with other packages' tests
			// running, the calls came within 1.3 MiB of the bound and once went 17 KB over it
			// without this slack; what the bound guards against allocated 229 MiB (before the
			// codec counted fields).
			const others = maxBody / 2
			if alloc > 3*maxBody+client+others {
				t.Fatalf("the call allocated %d bytes, over 3 × max_body_bytes plus the client's %d and %d for the rest of the process", alloc, client, others)
			}
		})
	}
	// A message within the bound is served: a 768-dimension embedding is one packed field.
	ok := memoryReq("", "", "within the bound", axisVector(1, 0.5))
	ok.GetMemory().Tags = []string{"a", "b"}
	if _, err := h.client.Remember(context.Background(), ok); err != nil {
		t.Fatalf("an ordinary message: %v", err)
	}
}

// TestUnauthenticatedMessageIsNotDecoded: with auth on, a call without a valid key is
// refused before its message is read, so a hostile message costs it nothing.
func TestUnauthenticatedMessageIsNotDecoded(t *testing.T) {
	keys := frontendtest.Keys{"k-alpha": {Name: "alpha", Spaces: []string{"alpha"}}}
	h := newHarness(t, harnessConfig{options: func(o *frontend.Options) { o.Auth = keys }})
	req := &pb.RememberRequest{MemoryType: &pb.RememberRequest_Memory{Memory: &pb.Memory{Content: "x", Tags: make([]string, 2_000_000)}}}
	for name, ctx := range map[string]context.Context{
		"no key":    context.Background(),
		"wrong key": metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer nope"),
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			alloc := allocatedDuring(func() { _, err = h.client.Remember(ctx, req) })
			wantCode(t, err, codes.Unauthenticated)
			// The client marshals the 6 MB message; the server adds nothing in proportion.
			if limit := uint64(proto.Size(req)) + 2<<20; alloc > limit {
				t.Fatalf("a refused call allocated %d bytes", alloc)
			}
		})
	}
}
